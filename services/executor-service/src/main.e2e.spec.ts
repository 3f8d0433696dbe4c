import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { jobsTopology } from '@campaigns/events';
import { connectTestNats, createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import {
  freePort,
  deleteEventsStream,
  uniqueEventsEnv,
  spawnService,
  type ServiceProcess,
} from '@campaigns/service-kit/testing';

const entry = 'services/executor-service/dist/main.js';
const TOKEN = `ghp_e2e_${crypto.randomUUID().replaceAll('-', '')}`;

/**
 * The built service as production runs it. (It does not use service-kit's shared
 * describeServiceProcess: that one expects a service whose only component is the relay.)
 */
describe(`node ${entry}`, () => {
  let db: TestDatabase;
  let dir: string;
  let configFile: string;
  let running: ServiceProcess | undefined;
  const eventsEnv = uniqueEventsEnv();

  beforeAll(async () => {
    db = await createTestDatabase('executor_service_e2e');
    dir = await mkdtemp(join(tmpdir(), 'campaigns-executor-e2e-'));
    configFile = join(dir, 'campaigns.config.yaml');
    // Nothing is fetched here, so the code host need not exist.
    await writeFile(
      configFile,
      `codeHosts:
  - id: example
    kind: github
    url: http://127.0.0.1:1
    apiUrl: http://127.0.0.1:1/api/v3
    tokenEnv: EXECUTOR_E2E_TOKEN
`,
    );
  });

  afterEach(() => {
    if (running?.child.exitCode === null && running.child.signalCode === null)
      running.child.kill('SIGKILL');
    running = undefined;
  });

  afterAll(async () => {
    const nats = await connectTestNats();
    try {
      const jobs = jobsTopology({
        streamName: eventsEnv.EVENTS_STREAM,
        subjectPrefix: eventsEnv.EVENTS_SUBJECT_PREFIX,
      });
      await (await jetstreamManager(nats)).streams.delete(jobs.streamName).catch(() => undefined);
    } finally {
      await nats.close();
    }
    await deleteEventsStream(eventsEnv);
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('migrates its schema, creates the jobs work queue, reports its components ready and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    running = spawnService(entry, {
      DATABASE_URL: db.url,
      PORT: String(port),
      ...eventsEnv,
      CAMPAIGNS_CONFIG: configFile,
      EXECUTOR_E2E_TOKEN: TOKEN,
      EXECUTOR_CACHE_DIR: join(dir, 'mirrors'),
      EXECUTOR_WORK_DIR: join(dir, 'work'),
    });

    const listening = await running.waitForLog('where it listens', (l) => l.msg === 'listening');
    const url = listening.url as string;
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: {
        database: 'ok',
        nats: 'ok',
        'component:relay:events': 'ok',
        'component:executor_service_job_dispatcher': 'ok',
        'component:jobs:worker': 'ok',
      },
    });

    const { rows } = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'executor_service' ORDER BY 1`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['dispatched_executions', 'step_cache']),
    );
    const nats = await connectTestNats();
    try {
      const jsm = await jetstreamManager(nats);
      const jobs = jobsTopology({
        streamName: eventsEnv.EVENTS_STREAM,
        subjectPrefix: eventsEnv.EVENTS_SUBJECT_PREFIX,
      });
      const info = await jsm.streams.info(jobs.streamName);
      expect(info.config).toMatchObject({
        retention: 'workqueue',
        storage: 'file',
        subjects: [jobs.subject],
      });
      const consumer = await jsm.consumers.info(jobs.streamName, 'executor');
      expect(consumer.config).toMatchObject({ ack_policy: 'explicit', ack_wait: 60_000_000_000 });
    } finally {
      await nats.close();
    }

    running.child.kill('SIGTERM');
    const exit = await running.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(running.logs().at(-1)).toMatchObject({ level: 'info', msg: 'shutdown complete' });
    expect(running.stdoutLines.join('\n')).not.toContain(TOKEN);
    expect(withoutRelayListenerWarning(running.stderr())).toBe('');
  }, 60_000);

  it('exits 1 with one fatal line naming CAMPAIGNS_CONFIG when it is not set', async () => {
    running = spawnService(entry, {
      DATABASE_URL: db.url,
      PORT: '0',
      ...eventsEnv,
      CAMPAIGNS_CONFIG: '',
    });

    const exit = await running.exited;

    expect(exit.code).toBe(1);
    const fatal = running.logs().filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toMatch(/^startup failed: CAMPAIGNS_CONFIG is not set: /);
    expect(running.stderr()).toBe('');
  }, 30_000);

  it('exits 1 naming the variable when the token variable of the config is not set', async () => {
    running = spawnService(entry, {
      DATABASE_URL: db.url,
      PORT: '0',
      ...eventsEnv,
      CAMPAIGNS_CONFIG: configFile,
      EXECUTOR_E2E_TOKEN: '',
    });

    const exit = await running.exited;

    expect(exit.code).toBe(1);
    const fatal = running.logs().filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toContain('environment variable EXECUTOR_E2E_TOKEN is not set');
  }, 30_000);

  it('exits 1 at once, without retrying, naming PostgreSQL but not its password, when PostgreSQL is unreachable', async () => {
    running = spawnService(entry, {
      DATABASE_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/campaigns',
      PORT: '0',
      CAMPAIGNS_CONFIG: configFile,
      EXECUTOR_E2E_TOKEN: TOKEN,
    });

    const exit = await running.exited;

    expect(exit.code).toBe(1);
    // Not a speed check (process start-up alone takes seconds on a loaded machine): a service
    // that retried or hung instead of giving up would still be running at 20 s.
    expect(exit.afterMs).toBeLessThan(20_000);
    const fatal = running.logs().filter((l) => l.level === 'fatal');
    expect(fatal).toEqual([expect.objectContaining({ dependency: 'PostgreSQL' })]);
    expect(running.stdoutLines.join('\n')).not.toContain('s3cret-pw');
    expect(running.stderr()).toBe('');
  }, 30_000);
});

/**
 * libs/events' `sleep` leaves an abort listener on the relay's signal after every idle poll, so
 * Node warns once a service has run for a few seconds (reported to libs/events' owner). Only
 * that exact warning is dropped; anything else on stderr still fails.
 */
function withoutRelayListenerWarning(stderr: string): string {
  return stderr.replace(
    /^\(node:\d+\) MaxListenersExceededWarning: Possible EventTarget memory leak detected\. \d+ abort listeners added to \[AbortSignal\]\..*\n\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n/m,
    '',
  );
}
