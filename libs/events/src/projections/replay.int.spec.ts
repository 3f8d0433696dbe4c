import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { ProjectionConsumer } from '../consumers/projection-consumer.js';
import { EventRelay } from '../relay/event-relay.js';
import type { StoredEvent } from '../store/event.js';
import { PostgresEventStore } from '../store/event-store.js';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import { testCatalogue, testMetadata } from '../test-support/test-events.js';
import {
  connectTestNats,
  deleteStream,
  eventually,
  uniqueTopology,
} from '../test-support/test-nats.js';
import { counterProjection } from '../test-support/test-projection.js';
import { replayProjection } from './replay.js';
import type { DataSource } from 'typeorm';
import { openProjectionDatabase } from '../test-support/test-projection-database.js';

describe('replayProjection', () => {
  const topology = uniqueTopology();
  const poison = (e: StoredEvent) =>
    e.type === 'CounterIncremented' && (e.data as { by: number }).by === 99;
  const projection = counterProjection({ fail: poison });
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nats: NatsConnection;
  let relay: EventRelay;
  let consumer: ProjectionConsumer;
  let database: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore(db.pool, testCatalogue);
    await store.migrate();
    nats = await connectTestNats();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    await relay.start();
    database = await openProjectionDatabase(db.url, 'live', [projection]);
    consumer = new ProjectionConsumer({
      store,
      database,
      nats,
      topology,
      projection,
      schema: 'live',
      maxDeliveries: 2,
      retryBackoffMs: { initial: 10, max: 50 },
    });
    await consumer.start();
    for (let s = 0; s < 5; s++) {
      await store.append(`counter-r${s}`, [{ type: 'CounterOpened', data: { label: `r${s}` } }], {
        expected: 'no_stream',
        metadata: testMetadata(),
      });
      for (let i = 1; i <= 6; i++) {
        await store.append(
          `counter-r${s}`,
          [{ type: 'CounterIncremented', data: { by: s === 2 && i === 3 ? 99 : i } }],
          { expected: 'any', metadata: testMetadata() },
        );
      }
    }
    // Events of a category the projection does not follow are not replayed either.
    await store.append('note-x', [{ type: 'NoteAttached', data: { text: 'unrelated' } }], {
      expected: 'any',
      metadata: testMetadata(),
    });
    const applied = async () =>
      Number(
        (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM live.effects')).rows[0]!.n,
      );
    expect(await eventually(async () => (await applied()) === 34)).toBe(true);
  });

  afterAll(async () => {
    await consumer.stop();
    await database.destroy();
    await relay.stop();
    await deleteStream(nats, topology);
    await nats.close();
    await db.drop();
  });

  it('rebuilds the projection from the store and finds it equal to the live one, dead letters included', async () => {
    const report = await replayProjection({ store, database, projection, liveSchema: 'live' });
    expect(report.differences).toEqual([]);
    expect(report.equal).toBe(true);
    expect(report.eventsReplayed).toBe(34);
    expect(report.tables).toEqual([
      { name: 'counters', liveRows: 5, replayedRows: 5 },
      { name: 'effects', liveRows: 34, replayedRows: 34 },
    ]);
  });

  it('reports a live row that no longer matches the log, with its key and both versions', async () => {
    await db.pool.query(
      `UPDATE live.counters SET total = total + 1000 WHERE stream_id = 'counter-r1'`,
    );
    try {
      const report = await replayProjection({ store, database, projection, liveSchema: 'live' });
      expect(report.equal).toBe(false);
      expect(report.differences).toEqual([
        {
          table: 'counters',
          key: { stream_id: 'counter-r1' },
          live: expect.objectContaining({ stream_id: 'counter-r1', total: 1021 }),
          replayed: expect.objectContaining({ stream_id: 'counter-r1', total: 21 }),
        },
      ]);
    } finally {
      await db.pool.query(
        `UPDATE live.counters SET total = total - 1000 WHERE stream_id = 'counter-r1'`,
      );
    }
  });

  it('reports a row missing from the live projection', async () => {
    const { rows } = await db.pool.query<{ seq: string }>(
      `SELECT max(seq) AS seq FROM live.effects`,
    );
    const removed = await db.pool.query(
      `DELETE FROM live.effects WHERE seq = $1 RETURNING event_id`,
      [rows[0]!.seq],
    );
    const report = await replayProjection({ store, database, projection, liveSchema: 'live' });
    expect(report.differences).toEqual([
      {
        table: 'effects',
        key: { event_id: removed.rows[0].event_id },
        live: null,
        replayed: expect.objectContaining({ event_id: removed.rows[0].event_id }),
      },
    ]);
  });

  it('applies a stream in version order when a later version sits earlier in the global order', async () => {
    await store.append('counter-late', [{ type: 'CounterOpened', data: { label: 'late' } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    // A transaction that took its id before appending (as a consumer's does, writing its own
    // tables first) appends version 3 after another transaction appended version 2.
    const early = await db.pool.connect();
    try {
      await early.query('BEGIN');
      await early.query('SELECT pg_current_xact_id()');
      await store.append('counter-late', [{ type: 'CounterIncremented', data: { by: 2 } }], {
        expected: 1n,
        metadata: testMetadata(),
      });
      await store.append(
        'counter-late',
        [{ type: 'CounterIncremented', data: { by: 3 } }],
        { expected: 2n, metadata: testMetadata() },
        early,
      );
      await early.query('COMMIT');
    } finally {
      early.release();
    }
    const { rows } = await db.pool.query<{ stream_version: string }>(
      `SELECT stream_version FROM eventstore.events WHERE stream_id = 'counter-late'
        ORDER BY transaction_id, global_position`,
    );
    expect(rows.map((r) => Number(r.stream_version))).toEqual([1, 3, 2]);
    expect(
      await eventually(
        async () =>
          (
            await db.pool.query<{ total: string }>(
              `SELECT total FROM live.counters WHERE stream_id = 'counter-late'`,
            )
          ).rows[0]?.total === '5',
      ),
    ).toBe(true);

    const report = await replayProjection({ store, database, projection, liveSchema: 'live' });
    // last_at is the last applied event's time: equal only if the replay applied 1, 2, 3 too.
    expect(report.differences.filter((d) => JSON.stringify(d).includes('counter-late'))).toEqual(
      [],
    );
  });
});
