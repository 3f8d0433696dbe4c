import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { ProjectionConsumer } from '../consumers/projection-consumer.js';
import type { EventsTopology } from '../nats/jetstream-topology.js';
import { PostgresEventStore } from '../store/event-store.js';
import { startFixture, type FixtureProcess } from '../test-support/child-process.js';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import { testCatalogue, testMetadata } from '../test-support/test-events.js';
import {
  connectTestNats,
  deleteStream,
  eventually,
  streamMessageCount,
  TEST_NATS_URL,
  uniqueTopology,
} from '../test-support/test-nats.js';
import { counterProjection } from '../test-support/test-projection.js';
import { openProjectionDatabase } from '../test-support/test-projection-database.js';
import type { DataSource } from 'typeorm';

describe('EventRelay', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nats: NatsConnection;
  const fixtures: FixtureProcess[] = [];
  const topologies: EventsTopology[] = [];
  const databases: DataSource[] = [];

  // Each test has its own database, hence its own relay checkpoint and log.
  beforeEach(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore(db.pool, testCatalogue);
    await store.migrate();
  });
  afterEach(async () => {
    await Promise.all(fixtures.splice(0).map((f) => f.kill()));
    for (const d of databases.splice(0)) await d.destroy();
    await db.drop();
  });
  beforeAll(async () => {
    nats = await connectTestNats();
  });
  afterAll(async () => {
    for (const t of topologies) await deleteStream(nats, t);
    await nats.close();
  });

  const relayProcess = (topology: EventsTopology, env: Record<string, string> = {}) => {
    const f = startFixture('relay-process.ts', {
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      STREAM: topology.streamName,
      PREFIX: topology.subjectPrefix,
      ...env,
    });
    fixtures.push(f);
    return f;
  };

  const appendCounters = async (prefix: string, streams: number, increments: number) => {
    for (let s = 0; s < streams; s++) {
      await store.append(
        `counter-${prefix}${s}`,
        [{ type: 'CounterOpened', data: { label: `${prefix}${s}` } }],
        { expected: 'no_stream', metadata: testMetadata() },
      );
      for (let i = 1; i <= increments; i++) {
        await store.append(
          `counter-${prefix}${s}`,
          [{ type: 'CounterIncremented', data: { by: i } }],
          { expected: BigInt(i), metadata: testMetadata() },
        );
      }
    }
    return streams * (increments + 1);
  };

  const relayCheckpoint = async () =>
    (
      await db.pool.query<{ global_position: string }>(
        `SELECT global_position FROM eventstore.relay_checkpoints WHERE relay = 'events'`,
      )
    ).rows[0]?.global_position ?? null;

  const effects = async (schema: string) =>
    (
      await db.pool.query<{ event_id: string; n: string }>(
        `SELECT event_id, count(*) AS n FROM ${schema}.effects GROUP BY event_id`,
      )
    ).rows;

  it.each([
    ['inside JetStream’s duplicate window, JetStream drops the republished copies', 120_000, false],
    ['beyond the duplicate window, the consumers drop the republished copies', 100, true],
  ])(
    'killed between publish and checkpoint and restarted: every consumer applies every event exactly once (%s)',
    async (_title, duplicateWindowMs, expectDuplicatesInStream) => {
      const topology = uniqueTopology();
      topologies.push(topology);
      const schema = expectDuplicatesInStream ? 'after_window' : 'in_window';
      const second = `${schema}_second`;
      const database = await openProjectionDatabase(db.url, schema, [counterProjection()]);
      const secondDatabase = await openProjectionDatabase(db.url, second, [counterProjection()]);
      databases.push(database, secondDatabase);
      const total = await appendCounters(schema, 4, 5);
      // Two independent consumers, as two services would have.
      const consumers = ['a', 'b'].map(
        (n) =>
          new ProjectionConsumer({
            store,
            database,
            nats,
            projection: counterProjection(),
            schema,
            topology,
            durableName: `${schema}_${n}`,
            batchSize: 7,
          }),
      );
      // Only one consumer per schema writes `effects`; the second writes to its own schema.
      consumers[1] = new ProjectionConsumer({
        store,
        database: secondDatabase,
        nats,
        projection: counterProjection(),
        schema: second,
        topology,
        batchSize: 7,
      });

      // 1. The relay publishes everything, JetStream acknowledges, and the process stops before checkpointing.
      const first = relayProcess(topology, {
        PAUSE_AFTER_PUBLISH: '1',
        DUPLICATE_WINDOW_MS: String(duplicateWindowMs),
      });
      await first.waitFor(/^published /);
      expect(await relayCheckpoint()).toBeNull();
      expect(await streamMessageCount(nats, topology)).toBe(total);

      // 2. The process is killed in that window.
      await first.kill('SIGKILL');
      if (expectDuplicatesInStream) await new Promise((r) => setTimeout(r, 300));

      // 3. A new relay starts from the old checkpoint and publishes everything again.
      const restarted = relayProcess(topology, { DUPLICATE_WINDOW_MS: String(duplicateWindowMs) });
      await restarted.waitFor(/^published /);
      expect(await eventually(async () => (await relayCheckpoint()) !== null)).toBe(true);
      expect(await streamMessageCount(nats, topology)).toBe(
        expectDuplicatesInStream ? 2 * total : total,
      );

      // 4. Both consumers apply each event exactly once.
      await Promise.all(consumers.map((c) => c.start()));
      try {
        for (const s of [schema, second]) {
          expect(await eventually(async () => (await effects(s)).length === total)).toBe(true);
        }
        await new Promise((r) => setTimeout(r, 500));
        for (const s of [schema, second]) {
          const rows = await effects(s);
          expect(rows).toHaveLength(total);
          expect(rows.filter((r) => r.n !== '1')).toEqual([]);
          const totals = await db.pool.query<{ total: string }>(`SELECT total FROM ${s}.counters`);
          expect(totals.rows.map((r) => Number(r.total))).toEqual([15, 15, 15, 15]);
        }
      } finally {
        await Promise.all(consumers.map((c) => c.stop()));
      }
    },
  );

  it('has one leader among candidates; when the leader is killed another takes over and keeps publishing', async () => {
    const topology = uniqueTopology();
    topologies.push(topology);
    const a = relayProcess(topology);
    await a.waitFor(/^leader=true/);
    const b = relayProcess(topology);
    await b.waitFor(/^started/);
    await new Promise((r) => setTimeout(r, 500));
    expect(b.lines.some((l) => l === 'leader=true')).toBe(false);

    const before = await streamMessageCount(nats, topology);
    await appendCounters('lead', 1, 2);
    expect(
      await eventually(async () => (await streamMessageCount(nats, topology)) === before + 3),
    ).toBe(true);

    await a.kill('SIGKILL');
    await b.waitFor(/^leader=true/, 10_000);
    await appendCounters('takeover', 1, 2);
    expect(
      await eventually(async () => (await streamMessageCount(nats, topology)) === before + 6),
    ).toBe(true);
  });
});
