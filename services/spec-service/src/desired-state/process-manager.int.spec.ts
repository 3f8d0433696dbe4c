import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  campaignsCatalogue,
  campaignStream,
  changesetId,
  changesetStream,
  EventRelay,
  executionId,
  executionStream,
  PostgresEventStore,
  ProjectionConsumer,
  sha256Hex,
  type ChangesetSpecData,
  type EventsTopology,
  type ProjectionDefinition,
  type StoredEvent,
  type StreamAppend,
  type WorkspaceData,
} from '@campaigns/events';
import type { CampaignSpec, StepResults } from '@campaigns/campaign-spec';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import {
  createTestDatabase,
  type TestDatabase,
  connectTestNats,
  deleteStream,
  eventually,
  openProjectionDatabase,
  uniqueTopology,
} from '@campaigns/events/testing';
import { testWorkspace } from '../test-support/fixed-resolver.js';
import { inTransaction, openSpecServiceDatabase } from '../test-support/spec-service-database.js';
import type {
  ResolutionProblem,
  ResolvedWorkspaces,
  WorkspaceResolver,
} from '../workspaces/workspace-resolver.js';
import { desiredStateProcessManager, PROCESS_MANAGER_NAME } from './process-manager.js';

const SCHEMA = 'spec_service';

/** Answers with `workspaces` for a campaign, once `gate` opens; counts what it was asked. */
class GatedResolver implements WorkspaceResolver {
  readonly workspaces = new Map<string, WorkspaceData[]>();
  readonly problems: ResolutionProblem[] = [];
  readonly asked: string[] = [];
  gate: Promise<void> = Promise.resolve();

  async resolve(spec: CampaignSpec): Promise<ResolvedWorkspaces> {
    this.asked.push(spec.name);
    await this.gate;
    return {
      workspaces: this.workspaces.get(spec.name) ?? [],
      problems: this.problems,
      imports: [],
    };
  }
}

const specText = (name: string) => `name: ${name}
on:
  - repositoriesMatchingQuery: file:README.md
steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Hello World in \${{ repository.name }}
  body: My first campaign!
  branch: hello-world
  commit:
    message: Append Hello to .md files
`;

describe('desired-state process manager (real PostgreSQL and NATS)', () => {
  let db: TestDatabase;
  let database: DataSource;
  let nats: NatsConnection;
  let topology: EventsTopology;
  let store: PostgresEventStore;
  let relay: EventRelay;
  let processManager: ProjectionConsumer;
  let probe: ProjectionConsumer;
  const resolver = new GatedResolver();
  /** Event ids the probe consumer (another service, following `changeset-*`) has applied. */
  const probed = new Set<string>();

  beforeAll(async () => {
    db = await createTestDatabase('spec_service_pm');
    nats = await connectTestNats();
    topology = uniqueTopology();
    store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    const probeProjection: ProjectionDefinition = {
      name: 'probe',
      categories: ['changeset'],
      migrations: () => [],
      entities: [],
      tables: [],
      handle: (events) => {
        events.forEach((e) => probed.add(e.event_id));
        return Promise.resolve();
      },
    };
    // The service's tables as its startup migrates them; the probe keeps only checkpoints there.
    database = await openSpecServiceDatabase(db.url, SCHEMA);
    const common = { store, database, nats, topology, schema: SCHEMA };
    processManager = new ProjectionConsumer({
      ...common,
      projection: desiredStateProcessManager({ store, resolver }),
    });
    probe = new ProjectionConsumer({ ...common, projection: probeProjection });
    await relay.start();
    await processManager.start();
    await probe.start();
  });

  afterAll(async () => {
    await probe.stop();
    await processManager.stop();
    await relay.stop();
    await database.destroy();
    await deleteStream(nats, topology);
    await nats.close();
    await db.drop();
  });

  const metadata = (applyId: string) => ({
    correlation_id: applyId,
    causation_id: null,
    actor: 'alice',
    source: 'test',
  });
  async function specApplied(campaign: string): Promise<{ applyId: string; eventId: string }> {
    const applyId = randomUUID();
    const text = specText(campaign);
    const { events } = await store.append(
      campaignStream(campaign),
      [
        {
          type: 'SpecApplied',
          data: {
            campaign,
            applyId,
            specHash: sha256Hex(text),
            specText: text,
            fileName: 'hello.campaign.yaml',
            actor: 'alice',
          },
        },
      ],
      { expected: 'any', metadata: metadata(applyId) },
    );
    return { applyId, eventId: events[0]!.eventId };
  }
  const typesIn = async (stream: string) => (await store.readStream(stream)).map((e) => e.type);
  const count = async (type: string, campaign: string) =>
    (
      await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM eventstore.events WHERE type = $1 AND data->>'campaign' = $2`,
        [type, campaign],
      )
    ).rows[0]!.n;
  /** Waits until the process manager has handled `stream` up to its current version. */
  async function handled(stream: string): Promise<void> {
    const version = (await store.streamVersion(stream)) ?? 0n;
    const done = await eventually(async () => {
      const { rows } = await db.pool.query<{ stream_version: string }>(
        `SELECT stream_version FROM ${SCHEMA}.projection_checkpoints WHERE projection = $1 AND stream_id = $2`,
        [PROCESS_MANAGER_NAME, stream],
      );
      return rows[0] !== undefined && BigInt(rows[0].stream_version) >= version;
    }, 60_000);
    expect(done).toBe(true);
  }

  it('while a resolution is slow, events others append are relayed to other consumers', async () => {
    let release!: () => void;
    resolver.gate = new Promise<void>((r) => (release = r));
    resolver.workspaces.set('slow', [testWorkspace('github.com/acme/a')]);
    try {
      // 1. The process manager takes the SpecApplied and waits for the resolver.
      await specApplied('slow');
      expect(await eventually(async () => resolver.asked.includes('slow'), 20_000, 10)).toBe(true);

      // 2. Meanwhile the webhook gateway records an observation: the relay publishes it and
      //    another consumer applies it, though the resolution has not finished.
      const id = changesetId('other', 'github.com/acme/b', 'hello-world');
      const observed = await store.append(
        changesetStream(id),
        [
          {
            type: 'ChangesetObserved',
            data: {
              changesetId: id,
              campaign: 'other',
              repository: 'github.com/acme/b',
              headBranch: 'hello-world',
              source: 'webhook',
              deliveryId: 'd-1',
              trigger: 'pull_request.opened',
              number: 1,
            },
          },
        ],
        { expected: 'any', metadata: { ...metadata(randomUUID()), source: 'webhook-gateway' } },
      );
      expect(await eventually(async () => probed.has(observed.events[0]!.eventId))).toBe(true);
      expect(await typesIn(campaignStream('slow'))).toEqual(['SpecApplied']);
    } finally {
      release();
    }

    // 3. Once resolved, the outcome is recorded.
    await handled(campaignStream('slow'));
    expect(await typesIn(campaignStream('slow'))).toEqual(['SpecApplied', 'WorkspacesResolved']);
    expect(await count('ExecutionQueued', 'slow')).toBe(1);
  });

  it('an outcome the store refuses (too large, invalid) is recorded as WorkspaceResolutionFailed', async () => {
    // 100 search result paths of 3,000 characters: an ExecutionQueued over the payload limit.
    resolver.workspaces.set('huge', [
      testWorkspace('github.com/acme/a'),
      {
        ...testWorkspace('github.com/acme/b'),
        searchResultPaths: Array.from({ length: 100 }, (_, i) => `${i}/${'x'.repeat(3000)}`),
      },
    ]);
    resolver.workspaces.set('invalid', [{ ...testWorkspace('github.com/acme/a'), branch: '' }]);
    await specApplied('huge');
    await specApplied('invalid');
    await handled(campaignStream('huge'));
    await handled(campaignStream('invalid'));

    for (const [campaign, message] of [
      ['huge', /^recording the resolved workspaces failed: ExecutionQueued: payload is \d+ bytes/],
      [
        'invalid',
        /^recording the resolved workspaces failed: ExecutionQueued\.data\.workspace\.branch/,
      ],
    ] as const) {
      const events = await store.readStream(campaignStream(campaign));
      expect(events.map((e) => e.type)).toEqual(['SpecApplied', 'WorkspaceResolutionFailed']);
      expect((events[1]!.data as { message: string }).message).toMatch(message);
      // All or nothing: not even the workspace that fitted was queued.
      expect(await count('ExecutionQueued', campaign)).toBe(0);
    }
    const dead = await db.pool.query(`SELECT 1 FROM ${SCHEMA}.dead_letters`);
    expect(dead.rows).toEqual([]);
  });

  it('renders a batch of patches in one go: one changeset spec each, stale and empty ones skipped, nothing twice on redelivery', async () => {
    const repositories = Array.from(
      { length: 40 },
      (_, i) => `github.com/acme/r${String(i).padStart(2, '0')}`,
    );
    resolver.workspaces.set(
      'batch',
      repositories.map((r) => testWorkspace(r)),
    );
    const stale = await specApplied('batch');
    await handled(campaignStream('batch'));
    const { applyId } = await specApplied('batch');
    await handled(campaignStream('batch'));

    // Each workspace's tree is carried into its changeset spec: its diff is the whole diff.
    const tree = (r: string) => ({
      sha: sha256Hex(`tree ${r}`).slice(0, 40),
      objects: { sha256: sha256Hex(`pack ${r}`), size: 10 },
    });
    const patches: StreamAppend[] = [];
    for (const [i, r] of repositories.entries()) {
      const empty = i === 0;
      const patch = `diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n # ${r}\n+Hello\n`;
      const files = empty
        ? { modified: [], added: [], deleted: [], renamed: [] }
        : { modified: ['README.md'], added: [], deleted: [], renamed: [] };
      const results: StepResults = {
        files,
        fileDiffs: empty ? [] : [{ path: 'README.md', patch }],
        outputs: {},
        steps: [{ stepIndex: 0, skipped: false, stdout: '', stderr: '', files }],
      };
      const resultsRef = await store.putBlob(JSON.stringify(results));
      const diff = empty ? null : await store.putBlob(patch);
      const patchOf = (ofApply: string) => {
        const id = executionId(ofApply, { repository: r, branch: 'main', path: '' });
        return {
          stream: executionStream(id),
          expected: 'any' as const,
          event: {
            type: 'PatchComputed',
            data: {
              executionId: id,
              campaign: 'batch',
              applyId: ofApply,
              workspace: testWorkspace(r),
              empty,
              diff,
              results: resultsRef,
              files,
              steps: [{ stepIndex: 0, skipped: false, exitCode: 0, durationMs: 5 }],
              cached: false,
              ...(empty ? {} : { tree: tree(r) }),
            },
            metadata: { correlation_id: ofApply },
          },
        };
      };
      patches.push(patchOf(applyId));
      // The first application's executions finishing late: their patches are ignored.
      if (i % 10 === 1) patches.push(patchOf(stale.applyId));
    }
    await store.appendToStreams(patches, metadata(applyId));
    for (const p of patches) await handled(p.stream);

    const specs: ChangesetSpecData[] = [];
    for (const [i, r] of repositories.entries()) {
      const events = await store.readStream(
        changesetStream(changesetId('batch', r, 'hello-world')),
      );
      if (i === 0) {
        expect(events).toEqual([]);
        continue;
      }
      expect(events.map((e) => e.type)).toEqual(['ChangesetSpecComputed']);
      const data = events[0]!.data as { applyId: string; spec: ChangesetSpecData };
      expect(data.applyId).toBe(applyId);
      expect(data.spec).toMatchObject({ title: `Hello World in ${r}`, tree: tree(r) });
      specs.push(data.spec);
    }
    expect(specs).toHaveLength(39);
    const { rows } = await db.pool.query<{ handled: boolean; n: number }>(
      `SELECT handled, count(*)::int AS n FROM ${SCHEMA}.pm_executions WHERE apply_id = $1 GROUP BY handled`,
      [applyId],
    );
    expect(rows).toEqual([{ handled: true, n: 40 }]);

    // A redelivery of the whole batch to a process manager that lost its state stores nothing.
    const stored = async () =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM eventstore.events WHERE data->>'campaign' = 'batch'`,
        )
      ).rows[0]!.n;
    const before = await stored();
    const again = desiredStateProcessManager({ store, resolver });
    const events: StoredEvent[] = [
      ...(await store.readStream(campaignStream('batch'))),
      ...(await Promise.all(patches.map((p) => store.readStream(p.stream)))).flat(),
    ].filter((e) => e.type === 'SpecApplied' || e.type === 'PatchComputed');
    const asked = resolver.asked.length;
    const elsewhere = await openProjectionDatabase(db.url, 'pm_again', [again]);
    try {
      await inTransaction(elsewhere, async ({ tx, manager }) =>
        again.handle(events, {
          tx,
          manager,
          schema: 'pm_again',
          prepared: await again.prepare!(events),
        }),
      );
    } finally {
      await elsewhere.destroy();
    }
    expect(await stored()).toBe(before);
    expect(resolver.asked.length).toBe(asked);
  });

  it('queues 100,000 workspaces: WorkspacesResolved counts them, one ExecutionQueued each', async () => {
    const n = 100_000;
    resolver.workspaces.set(
      'large',
      Array.from({ length: n }, (_, i) => testWorkspace(`github.com/acme/r${i}`)),
    );
    const { applyId } = await specApplied('large');

    // Handled once WorkspacesResolved itself came back through JetStream.
    const resolved = await eventually(
      async () => (await typesIn(campaignStream('large'))).length === 2,
      120_000,
      200,
    );
    expect(resolved).toBe(true);
    await handled(campaignStream('large'));
    const [, outcome] = await store.readStream(campaignStream('large'));
    expect(outcome!.type).toBe('WorkspacesResolved');
    expect(outcome!.data).toMatchObject({ workspaceCount: n, problems: [], problemsOmitted: 0 });
    const { rows } = await db.pool.query<{ events: number; streams: number }>(
      `SELECT count(*)::int AS events, count(DISTINCT stream_id)::int AS streams
         FROM eventstore.events WHERE type = 'ExecutionQueued' AND data->>'applyId' = $1`,
      [applyId],
    );
    expect(rows[0]).toEqual({ events: n, streams: n });
    const queued = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.pm_executions WHERE apply_id = $1`,
      [applyId],
    );
    expect(queued.rows[0]!.n).toBe(n);
  }, 180_000);
});
