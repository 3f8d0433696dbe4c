import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { jobsTopology } from '@campaigns/events';
import { APPLICATION_LABEL, WARM_PID_LABEL } from './steps/index.js';
import { eventually } from '@campaigns/events/testing';
import { spawnService, type ServiceProcess } from '@campaigns/service-kit/testing';
import {
  SIM_TOKEN_ENV,
  specWithSteps,
  startExecutorHarness,
  type ExecutorHarness,
} from './test-support/executor-harness.js';

const entry = 'services/executor-service/dist/main.js';

describe('executor-service processes: kill -9 of the executor running a job', () => {
  let h: ExecutorHarness;
  const processes: ServiceProcess[] = [];
  const urls = new Map<ServiceProcess, string>();

  const start = async (name: string) => {
    const service = spawnService(entry, {
      DATABASE_URL: h.db.url,
      PORT: '0',
      EVENTS_STREAM: h.topology.streamName,
      EVENTS_SUBJECT_PREFIX: h.topology.subjectPrefix,
      CAMPAIGNS_CONFIG: h.configFile,
      [SIM_TOKEN_ENV]: h.sim.token,
      EXECUTOR_ACK_WAIT_MS: '2000',
      EXECUTOR_CACHE_DIR: join(h.dir, `mirrors-${name}`),
      EXECUTOR_WORK_DIR: join(h.dir, `work-${name}`),
    });
    processes.push(service);
    const listening = await service.waitForLog(
      `${name} listening`,
      (l) => l.msg === 'listening',
      30_000,
    );
    urls.set(service, listening['url'] as string);
    return service;
  };

  beforeAll(async () => {
    h = await startExecutorHarness();
  }, 60_000);

  afterAll(async () => {
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
    await h?.close();
  }, 60_000);

  it('another instance finishes the job after the one running it is killed mid-step: one result, nothing lost', async () => {
    const a = await start('a');
    const b = await start('b');
    const repo = await h.createRepo('crash', { 'README.md': '# crash\n' });
    const { applyId, jobs } = await h.queue({
      campaign: 'crash',
      specText: specWithSteps('crash', [{ run: 'sleep 5; echo Hello | tee -a README.md' }]),
      repositories: [repo],
    });
    const job = jobs[0]!;
    const label = `${APPLICATION_LABEL}=${applyId}`;

    // Whichever instance took the job is killed once its warm step container runs.
    let worker = '';
    const running = await eventually(
      async () => {
        const events = await h.store.readStream(`execution-${job.executionId}`);
        const started = events.find((e) => e.type === 'ExecutionStarted');
        worker = (started?.data as { worker?: string } | undefined)?.worker ?? '';
        const containers = await h.docker.listContainers({ filters: { label: [label] } });
        return worker !== '' && containers.length === 1;
      },
      30_000,
      100,
    );
    expect(running).toBe(true);
    const pid = Number(worker.split(':').at(-1));
    const [victim, survivor] = pid === a.child.pid ? [a, b] : [b, a];
    expect(victim.child.pid).toBe(pid);
    const [orphan] = await h.docker.listContainers({ filters: { label: [label] } });
    expect(orphan!.Labels[WARM_PID_LABEL]).toBe(String(pid));
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toMatchObject({ signal: 'SIGKILL' });
    // Its step container outlives it, still labelled with the application.
    expect(
      (await h.docker.listContainers({ all: true, filters: { label: [label] } })).map((c) => c.Id),
    ).toEqual([orphan!.Id]);

    const events = await h.result(job.executionId, 90_000);

    const results = events.filter(
      (e) => e.type === 'PatchComputed' || e.type === 'ExecutionFailed',
    );
    expect(results).toHaveLength(1);
    expect(results[0]!.type).toBe('PatchComputed');
    const diff = (await h.store.getBlob(
      (results[0]!.data as { diff: { sha256: string } }).diff.sha256,
    ))!.toString();
    expect(diff).toContain(' # crash\n+Hello\n');
    const starts = events
      .filter((e) => e.type === 'ExecutionStarted')
      .map((e) => e.data as { attempt: number; worker: string });
    // Attempt 1 was the victim's; the survivor ran a later one. Which delivery number it got
    // depends on timing: a redelivery can go to the dead instance's pull request, which the
    // server still held, and come back once more after the ack wait.
    expect(starts[0]!.attempt).toBe(1);
    expect(starts.length).toBeGreaterThanOrEqual(2);
    const survivorWorker = `${worker.split(':')[0]}:${survivor.child.pid}`;
    for (const later of starts.slice(1)) {
      expect(later.worker).toBe(survivorWorker);
      expect(later.attempt).toBeGreaterThan(1);
    }
    expect(starts.map((s) => s.attempt)).toEqual(
      [...starts.map((s) => s.attempt)].sort((x, y) => x - y),
    );
    // The dead attempt's container was removed when the job was delivered again.
    const after = await h.docker.listContainers({ all: true, filters: { label: [label] } });
    expect(after.map((c) => c.Id)).not.toContain(orphan!.Id);
    // The job was acknowledged: the work queue is empty.
    const jsm = await jetstreamManager(h.nats);
    const drained = await eventually(
      async () =>
        (await jsm.streams.info(jobsTopology(h.topology).streamName)).state.messages === 0,
      10_000,
    );
    expect(drained).toBe(true);
    // A little later, still exactly one result: no other delivery recorded a second one.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const history = await h.store.readStream(`execution-${job.executionId}`);
    expect(
      history.filter((e) => e.type === 'PatchComputed' || e.type === 'ExecutionFailed'),
    ).toHaveLength(1);

    const metrics = await (await fetch(`${urls.get(survivor)}/metrics`)).text();
    expect(metrics).toMatch(/^campaigns_executions_total\{outcome="patch"[^}]*\} 1$/m);

    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toMatchObject({ code: 0 });
    // Stopping removed the survivor's warm containers too.
    expect(await h.docker.listContainers({ all: true, filters: { label: [label] } })).toEqual([]);
  }, 150_000);
});
