import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  campaignsCatalogue,
  changesetId as changesetIdOf,
  changesetStream,
  PostgresEventStore,
} from '@campaigns/events';
import { createTestDatabase, type TestDatabase, eventually } from '@campaigns/events/testing';
import { startSimCodeHost, type SimCodeHost } from '@campaigns/codehost/testing';
import {
  freePort,
  spawnService,
  type ServiceProcess,
  deleteEventsStream,
  uniqueEventsEnv,
} from '@campaigns/service-kit/testing';
import { makeDiff } from './test-support/reconciler-harness.js';

const entry = 'services/reconciler-service/dist/main.js';

describe(`node ${entry}`, () => {
  let db: TestDatabase;
  let sim: SimCodeHost;
  let dir: string;
  let running: ServiceProcess | undefined;
  const eventsEnv = uniqueEventsEnv();

  beforeAll(async () => {
    db = await createTestDatabase('reconciler_service_e2e');
    sim = await startSimCodeHost({ repos: 1 });
    dir = await mkdtemp(join(tmpdir(), 'reconciler-e2e-'));
    await writeFile(
      join(dir, 'campaigns.config.yaml'),
      `codeHosts:
  - id: sim
    kind: github
    url: ${sim.sim.url}
    apiUrl: ${sim.sim.apiUrl}
    graphqlUrl: ${sim.sim.graphqlUrl}
    tokenEnv: E2E_SIM_TOKEN
`,
    );
  }, 60_000);

  afterEach(() => {
    if (running?.child.exitCode === null && running.child.signalCode === null)
      running.child.kill('SIGKILL');
    running = undefined;
  });

  afterAll(async () => {
    await deleteEventsStream(eventsEnv);
    await sim?.sim.stop();
    await rm(dir, { recursive: true, force: true });
    await db?.drop();
  }, 60_000);

  it('reconciles a changeset spec into a pull request, reports its components ready and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    running = spawnService(entry, {
      DATABASE_URL: db.url,
      PORT: String(port),
      ...eventsEnv,
      CAMPAIGNS_CONFIG: join(dir, 'campaigns.config.yaml'),
      E2E_SIM_TOKEN: sim.token,
      CAMPAIGNS_WRITE_SPACING_MS: '0',
      CAMPAIGNS_NOTIFICATION_SPACING_MS: '0',
      RECONCILER_POLL_MS: '50',
    });
    const listening = await running.waitForLog('where it listens', (l) => l.msg === 'listening');
    const url = listening.url as string;
    const ready = await fetch(`${url}/readyz`);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: {
        database: 'ok',
        nats: 'ok',
        'component:relay:events': 'ok',
        'component:reconciler_service_changesets': 'ok',
        'component:reconciler_service_bulk_jobs': 'ok',
        'component:reconciler-worker': 'ok',
        'component:bulk-processor': 'ok',
        'component:changeset-syncer': 'ok',
      },
    });

    await sim.sim.control.call('createRepo', {
      owner: 'acme',
      name: 'e2e',
      files: { 'README.md': '# e2e\n' },
    });
    const repo = sim.repo('e2e');
    const store = new PostgresEventStore(db.pool, campaignsCatalogue());
    const diff = await makeDiff({ 'README.md': '# e2e\n' }, { 'README.md': '# e2e\nHello\n' });
    const id = changesetIdOf('hello-world', repo, 'hello-world');
    const applyId = randomUUID();
    const appended = await store.append(
      changesetStream(id),
      [
        {
          type: 'ChangesetSpecComputed',
          data: {
            changesetId: id,
            campaign: 'hello-world',
            repository: repo,
            headBranch: 'hello-world',
            applyId,
            executionId: 'e'.repeat(32),
            spec: {
              baseRef: 'main',
              baseRevision: (await sim.host.getRepository(repo)).headCommit,
              title: 'Hello World',
              body: 'My first campaign!',
              commit: { message: 'Say hello', author: { name: 'Ada', email: 'ada@example.com' } },
              published: true,
              diff: await store.putBlob(diff),
              files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
            },
          },
        },
      ],
      {
        expected: 'no_stream',
        metadata: { correlation_id: applyId, causation_id: null, actor: 'ada', source: 'test' },
      },
    );
    const specEventId = appended.events[0]!.eventId;
    const reconciled = await eventually(async () =>
      (await store.readStream(changesetStream(id))).some(
        (e) =>
          e.type === 'ChangesetReconciled' &&
          (e.data as { specEventId: string }).specEventId === specEventId,
      ),
    );
    expect(reconciled).toBe(true);
    const pulls = (await (
      await fetch(`${sim.sim.apiUrl}/repos/acme/e2e/pulls`, {
        headers: { authorization: `token ${sim.token}` },
      })
    ).json()) as { title: string }[];
    expect(pulls).toEqual([expect.objectContaining({ title: 'Hello World' })]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /^campaigns_reconciler_operations_total\{operation="publish",outcome="done"[^}]*\} 1$/m,
    );

    running.child.kill('SIGTERM');
    const exit = await running.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(running.logs().at(-1)).toMatchObject({ level: 'info', msg: 'shutdown complete' });
    expect(running.stdoutLines.join('\n')).not.toContain(sim.token);
    expect(running.stderr()).toBe('');
  }, 60_000);

  it('exits 1 with one fatal line naming CAMPAIGNS_CONFIG when the code host configuration is missing', async () => {
    running = spawnService(entry, {
      DATABASE_URL: db.url,
      PORT: '0',
      ...eventsEnv,
      CAMPAIGNS_CONFIG: join(dir, 'missing.yaml'),
    });
    const exit = await running.exited;
    expect(exit.code).toBe(1);
    const fatal = running.logs().filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toMatch(
      /reconciler-service needs a code host configuration: .*missing\.yaml.*file not found.*set CAMPAIGNS_CONFIG/,
    );
    expect(String(fatal[0]!.msg)).not.toContain('\n');
    expect(running.stderr()).toBe('');
  }, 30_000);

  it('exits 1 with one fatal line naming PostgreSQL when it is unreachable', async () => {
    running = spawnService(entry, {
      DATABASE_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/campaigns',
      PORT: '0',
    });
    const exit = await running.exited;
    expect(exit.code).toBe(1);
    const fatal = running.logs().filter((l) => l.level === 'fatal');
    expect(fatal).toEqual([expect.objectContaining({ dependency: 'PostgreSQL' })]);
    expect(running.stdoutLines.join('\n')).not.toContain('s3cret-pw');
  }, 30_000);
});
