import { afterEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { CONSUMER_ENTITIES } from '../database/consumer.entities.js';
import { openDatabase } from '../database/database.js';
import { PostgresEventStore } from '../store/event-store.js';
import {
  createTestDatabase,
  TEST_ADMIN_URL,
  type TestDatabase,
} from '../test-support/test-database.js';
import { testCatalogue, testMetadata } from '../test-support/test-events.js';
import { counterProjection } from '../test-support/test-projection.js';
import { openProjectionDatabase } from '../test-support/test-projection-database.js';
import { formatVerifyReport, verifyEventLog } from './verify-event-log.js';

const projection = counterProjection();
const STREAMS = ['counter-a', 'counter-b', 'counter-c', 'counter-d'];

/** A log of 4 counters × 6 events, appended round-robin in 3 rounds, plus one note; and its live projection. */
async function seededDatabase(): Promise<{
  db: TestDatabase;
  store: PostgresEventStore;
  database: DataSource;
}> {
  const db = await createTestDatabase('campaigns_audit');
  const store = new PostgresEventStore(db.pool, testCatalogue);
  await store.migrate();
  for (const s of STREAMS) {
    await store.append(
      s,
      [
        { type: 'CounterOpened', data: { label: s } },
        { type: 'CounterIncremented', data: { by: 1 } },
      ],
      { expected: 'no_stream', metadata: testMetadata() },
    );
  }
  for (let round = 0; round < 2; round++) {
    for (const [i, s] of STREAMS.entries()) {
      await store.append(
        s,
        [
          { type: 'CounterIncremented', data: { by: i + 2 } },
          { type: 'CounterIncremented', data: { by: round + 10 } },
        ],
        { expected: 'any', metadata: testMetadata({ correlation_id: `round-${round}` }) },
      );
    }
  }
  await store.append('note-x', [{ type: 'NoteAttached', data: { text: 'unrelated' } }], {
    expected: 'no_stream',
    metadata: testMetadata(),
  });
  // The live projection, built the way a consumer would: tables, handled events, checkpoints.
  const database = await openProjectionDatabase(db.url, 'live', [projection]);
  const runner = database.createQueryRunner();
  const client = (await runner.connect()) as pg.PoolClient;
  try {
    await client.query('BEGIN');
    // Stream by stream, not readAll: its gap-safe order holds back events newer than the oldest
    // transaction still open anywhere on the server (other test files' included).
    const counters = (await Promise.all(STREAMS.map((s) => store.readStream(s, {}, client))))
      .flat()
      .sort((a, b) => (a.global_position < b.global_position ? -1 : 1));
    await projection.handle(
      counters.map((e) => store.upcast(e)),
      { tx: client, manager: runner.manager, schema: 'live' },
    );
    await client.query(
      `INSERT INTO live.projection_checkpoints (projection, stream_id, stream_version)
       SELECT 'counters', stream_id, version FROM eventstore.streams WHERE stream_id LIKE 'counter-%'`,
    );
    await client.query('COMMIT');
  } finally {
    await runner.release();
  }
  seeded.push(database);
  return { db, store, database };
}

/** Runs statements as a superuser with the append-only triggers skipped, as an attacker with full access could. */
async function tamper(db: TestDatabase, ...statements: string[]): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function eventAt(
  db: TestDatabase,
  stream: string,
  version: number,
): Promise<{ event_id: string; global_position: string; hash: string }> {
  const { rows } = await db.pool.query<{ event_id: string; global_position: string; hash: string }>(
    `SELECT event_id, global_position::text, hash FROM eventstore.events WHERE stream_id = $1 AND stream_version = $2`,
    [stream, version],
  );
  return rows[0]!;
}

/** The DataSources seededDatabase opened, closed after each test. */
const seeded: DataSource[] = [];

const verify = (db: TestDatabase, pool: pg.Pool = db.pool, database = seeded.at(-1)) =>
  verifyEventLog({
    pool,
    database,
    catalogue: testCatalogue,
    projections: [{ liveSchema: 'live', projection }],
    batchSize: 7,
  });

/** Row counts of every table the audit could touch. */
async function counts(db: TestDatabase): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ t: string; n: string }>(
    `SELECT 'events' AS t, count(*) AS n FROM eventstore.events
     UNION ALL SELECT 'streams', count(*) FROM eventstore.streams
     UNION ALL SELECT 'counters', count(*) FROM live.counters
     UNION ALL SELECT 'effects', count(*) FROM live.effects
     UNION ALL SELECT 'checkpoints', count(*) FROM live.projection_checkpoints
     UNION ALL SELECT 'tables', count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE 'pg_temp%'`,
  );
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

describe('verifyEventLog', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    for (const d of seeded.splice(0)) await d.destroy();
    await db?.drop();
    db = undefined;
  });

  it('finds a clean log and projection clean, reading in pages, and writes nothing', async () => {
    ({ db } = await seededDatabase());
    const before = await counts(db);
    const progress: number[] = [];
    const report = await verifyEventLog({
      pool: db.pool,
      catalogue: testCatalogue,
      database: seeded.at(-1),
      projections: [{ liveSchema: 'live', projection }],
      batchSize: 5,
      onProgress: (n) => progress.push(n),
    });
    expect(report.discrepancies).toEqual([]);
    expect(report).toMatchObject({
      events: 25,
      streams: 5,
      discrepancyCount: 0,
      ok: true,
      projections: [{ name: 'counters', liveSchema: 'live', tables: 2, rows: 28, equal: true }],
    });
    expect(report.chainEventsPerSecond).toBeGreaterThan(0);
    expect(progress).toEqual([5, 10, 15, 20, 25]);
    expect(await counts(db)).toEqual(before);
    const text = formatVerifyReport(report);
    expect(text).toContain('25 events in 5 streams');
    expect(text).toContain('projection counters (live): 2 tables, 28 rows, equal to its replay');
    expect(text).toContain('OK: no discrepancies');
  });

  it('verifies the log through connections whose transactions are all read-only', async () => {
    ({ db } = await seededDatabase());
    const readOnly = new pg.Pool({
      connectionString: db.url,
      options: '-c default_transaction_read_only=on',
    });
    try {
      await expect(
        readOnly.query(`INSERT INTO live.counters VALUES ('x', 'x', 0, now())`),
      ).rejects.toThrow(/read-only transaction/);
      const report = await verifyEventLog({ pool: readOnly, catalogue: testCatalogue });
      expect(report).toMatchObject({ events: 25, streams: 5, ok: true, discrepancies: [] });
    } finally {
      await readOnly.end();
    }
  });

  it('reports a payload changed after it was recorded, and only that event', async () => {
    ({ db } = await seededDatabase());
    const target = await eventAt(db, 'counter-b', 4);
    await tamper(
      db,
      `UPDATE eventstore.events SET data = '{"by": 500}' WHERE event_id = '${target.event_id}'`,
    );
    const report = await verify(db);
    expect(report.ok).toBe(false);
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: 'hash-mismatch',
        streamId: 'counter-b',
        streamVersion: '4',
        eventId: target.event_id,
        globalPosition: target.global_position,
        message: expect.stringContaining('payload or metadata changed after it was recorded'),
      }),
      // The live projection was built from the original payload; the replay uses the changed one.
      expect.objectContaining({
        kind: 'projection-row-differs',
        projection: 'counters',
        table: 'counters',
        key: { stream_id: 'counter-b' },
        live: expect.objectContaining({ total: 1 + 3 + 10 + 3 + 11 }),
        replayed: expect.objectContaining({ total: 1 + 3 + 500 + 3 + 11 }),
      }),
    ]);
    expect(formatVerifyReport(report)).toMatch(
      /FAILED: 2 discrepancies\n {2}\[hash-mismatch\] counter-b version 4 \(event [0-9a-f-]+, global position \d+\): hash mismatch/,
    );
  });

  it('reports a changed metadata value the same way', async () => {
    ({ db } = await seededDatabase());
    const target = await eventAt(db, 'counter-a', 1);
    await tamper(
      db,
      `UPDATE eventstore.events SET metadata = metadata || '{"actor": "mallory"}' WHERE event_id = '${target.event_id}'`,
    );
    const report = await verify(db);
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: 'hash-mismatch',
        streamId: 'counter-a',
        streamVersion: '1',
        eventId: target.event_id,
      }),
    ]);
  });

  it('reports a deleted event as the missing version', async () => {
    ({ db } = await seededDatabase());
    const deleted = await eventAt(db, 'counter-c', 3);
    const after = await eventAt(db, 'counter-c', 4);
    await tamper(db, `DELETE FROM eventstore.events WHERE event_id = '${deleted.event_id}'`);
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    expect(report.discrepancies).toEqual([
      {
        kind: 'version-gap',
        message: expect.stringContaining('counter-c: version 3 missing (deleted?)'),
        streamId: 'counter-c',
        streamVersion: '3',
        eventId: after.event_id,
        globalPosition: after.global_position,
      },
    ]);
    expect(report.events).toBe(24);
  });

  it('reports the last event of a stream deleted through the stream head', async () => {
    ({ db } = await seededDatabase());
    const last = await eventAt(db, 'counter-d', 6);
    await tamper(db, `DELETE FROM eventstore.events WHERE event_id = '${last.event_id}'`);
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: 'stream-head-mismatch',
        streamId: 'counter-d',
        streamVersion: '6',
        message: expect.stringContaining(
          'eventstore.streams is at version 6, the last stored event is version 5 (version 6 missing: deleted?)',
        ),
      }),
    ]);
  });

  it('reports two events of a stream whose global positions were swapped', async () => {
    ({ db } = await seededDatabase());
    const v3 = await eventAt(db, 'counter-a', 3);
    const v4 = await eventAt(db, 'counter-a', 4);
    await tamper(
      db,
      // An identity column refuses updates unless it is made BY DEFAULT first: a superuser can.
      `ALTER TABLE eventstore.events ALTER COLUMN global_position SET GENERATED BY DEFAULT`,
      `UPDATE eventstore.events SET global_position = -1 WHERE event_id = '${v3.event_id}'`,
      `UPDATE eventstore.events SET global_position = ${v3.global_position} WHERE event_id = '${v4.event_id}'`,
      `UPDATE eventstore.events SET global_position = ${v4.global_position} WHERE event_id = '${v3.event_id}'`,
    );
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    expect(report.discrepancies).toEqual([
      {
        kind: 'version-order',
        message: expect.stringContaining(
          `lies before version 3 (event ${v3.event_id}, global position ${v4.global_position}) in the global order`,
        ),
        streamId: 'counter-a',
        streamVersion: '4',
        eventId: v4.event_id,
        globalPosition: v3.global_position,
      },
    ]);
  });

  it('reports two events of a stream whose versions were swapped', async () => {
    ({ db } = await seededDatabase());
    const v3 = await eventAt(db, 'counter-b', 3);
    const v4 = await eventAt(db, 'counter-b', 4);
    await tamper(
      db,
      `UPDATE eventstore.events SET stream_version = 1000 WHERE event_id = '${v3.event_id}'`,
      `UPDATE eventstore.events SET stream_version = 3 WHERE event_id = '${v4.event_id}'`,
      `UPDATE eventstore.events SET stream_version = 4 WHERE event_id = '${v3.event_id}'`,
    );
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    // The event now at version 3 no longer hashes as recorded, and the one now at version 4 sits
    // before it in the global order; the chain after the pair is intact and not reported.
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: 'hash-mismatch',
        streamId: 'counter-b',
        streamVersion: '3',
        eventId: v4.event_id,
      }),
      expect.objectContaining({
        kind: 'version-order',
        streamId: 'counter-b',
        streamVersion: '4',
        eventId: v3.event_id,
        globalPosition: v3.global_position,
      }),
    ]);
  });

  it('reports a forged event inserted in the middle of a stream, naming it', async () => {
    ({ db } = await seededDatabase());
    const v2 = await eventAt(db, 'counter-c', 2);
    const v3 = await eventAt(db, 'counter-c', 3);
    const forgedId = '00000000-0000-7000-8000-00000000f00d';
    // Later versions move up by one; the forged event takes version 3 with a correct hash
    // chained to version 2, as a forger who knows the canonical form would compute it.
    await tamper(
      db,
      `UPDATE eventstore.events SET stream_version = stream_version + 1000 WHERE stream_id = 'counter-c' AND stream_version >= 3`,
      `UPDATE eventstore.events SET stream_version = stream_version - 999 WHERE stream_id = 'counter-c' AND stream_version > 1000`,
      `INSERT INTO eventstore.events (transaction_id, event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at, hash)
       SELECT pg_current_xact_id(), '${forgedId}', 'counter-c', 3, 'CounterIncremented', 2, '{"by": 1000}', metadata, recorded_at,
              encode(sha256(decode('${v2.hash}', 'hex') || convert_to(eventstore.event_canonical('counter-c', 3, '${forgedId}',
                'CounterIncremented', 2, eventstore.canonical_time(recorded_at), '{"by": 1000}', metadata), 'UTF8')), 'hex')
         FROM eventstore.events WHERE event_id = '${v2.event_id}'`,
      `UPDATE eventstore.streams SET version = 7 WHERE stream_id = 'counter-c'`,
    );
    const forged = await eventAt(db, 'counter-c', 3);
    expect(forged.event_id).toBe(forgedId);
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    const [first, ...rest] = report.discrepancies;
    expect(first).toEqual({
      kind: 'chain-broken',
      message: expect.stringContaining(
        `chain broken: previous-hash link does not match version 4: it was recorded as version 3 right after the event now at version 2, so the event now at version 3 (${forgedId}, global position ${forged.global_position}, stored after it) was inserted afterwards (forged?)`,
      ),
      streamId: 'counter-c',
      streamVersion: '4',
      eventId: v3.event_id,
      globalPosition: v3.global_position,
    });
    // The events after it were renumbered: each says so; nothing else is reported.
    expect(rest).toEqual(
      [5, 6, 7].map((v) =>
        expect.objectContaining({
          kind: 'chain-broken',
          streamId: 'counter-c',
          streamVersion: String(v),
          message: expect.stringContaining(
            `it was recorded as version ${v - 1} (renumbered after an event was inserted earlier in the stream)`,
          ),
        }),
      ),
    );
  });

  it('reports an altered stored hash as a broken link at the next version', async () => {
    ({ db } = await seededDatabase());
    const v2 = await eventAt(db, 'counter-d', 2);
    const v3 = await eventAt(db, 'counter-d', 3);
    await tamper(
      db,
      `UPDATE eventstore.events SET hash = repeat('ab', 32) WHERE event_id = '${v2.event_id}'`,
    );
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    expect(report.discrepancies).toEqual([
      expect.objectContaining({ kind: 'hash-mismatch', eventId: v2.event_id }),
      expect.objectContaining({
        kind: 'chain-broken',
        eventId: v3.event_id,
        streamVersion: '3',
        message: expect.stringContaining(
          'chain broken: previous-hash link does not match version 2, whose stored hash was changed',
        ),
      }),
    ]);
  });

  it('reports an altered projection row with its key and both versions', async () => {
    ({ db } = await seededDatabase());
    await db.pool.query(`UPDATE live.counters SET label = 'renamed' WHERE stream_id = 'counter-a'`);
    const { rows } = await db.pool.query<{ event_id: string }>(
      `DELETE FROM live.effects WHERE stream_id = 'counter-d' AND stream_version = 2 RETURNING event_id`,
    );
    const report = await verify(db);
    expect(report.projections).toEqual([
      { name: 'counters', liveSchema: 'live', tables: 2, rows: 27, equal: false },
    ]);
    expect(report.discrepancies).toEqual([
      {
        kind: 'projection-row-differs',
        message: expect.stringContaining(
          'projection counters, table live.counters, key {"stream_id":"counter-a"}: live',
        ),
        projection: 'counters',
        table: 'counters',
        key: { stream_id: 'counter-a' },
        live: expect.objectContaining({ label: 'renamed' }),
        replayed: expect.objectContaining({ label: 'counter-a' }),
      },
      {
        kind: 'projection-row-missing',
        message: expect.stringContaining('row missing from the live projection'),
        projection: 'counters',
        table: 'effects',
        key: { event_id: rows[0]!.event_id },
        live: null,
        replayed: expect.objectContaining({ stream_version: 2 }),
      },
    ]);
  });

  it('reports invalid payloads, unknown types and incomplete metadata, even with intact chains', async () => {
    ({ db } = await seededDatabase());
    // append_events itself does not validate: the client does. A buggy or foreign writer could skip it.
    const append = (stream: string, type: string, data: unknown, metadata: unknown) =>
      db!.pool.query<{ event_id: string }>(
        `SELECT event_id FROM eventstore.append_events($1, 'any', ARRAY[gen_random_uuid()], ARRAY[$2], ARRAY[2], ARRAY[$3::jsonb], ARRAY[$4::jsonb])`,
        [stream, type, JSON.stringify(data), JSON.stringify(metadata)],
      );
    const invalid = await append('counter-a', 'CounterIncremented', { by: -3 }, testMetadata());
    const unknown = await append('counter-b', 'CounterExploded', { boom: true }, testMetadata());
    const noActor = await append(
      'counter-c',
      'CounterIncremented',
      { by: 1 },
      { correlation_id: 'c', causation_id: null, source: 'test', actor: '' },
    );
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: 'invalid-payload',
        eventId: invalid.rows[0]!.event_id,
        streamVersion: '7',
        message: expect.stringContaining('CounterIncremented v2 payload invalid'),
      }),
      expect.objectContaining({
        kind: 'unknown-type',
        eventId: unknown.rows[0]!.event_id,
        message: expect.stringContaining('unknown event type CounterExploded'),
      }),
      expect.objectContaining({
        kind: 'invalid-metadata',
        eventId: noActor.rows[0]!.event_id,
        message: expect.stringContaining('metadata lacks actor'),
      }),
    ]);
  });

  it('validates each payload against the schema version it was stored with', async () => {
    ({ db } = await seededDatabase());
    const append = (data: unknown, schemaVersion: number) =>
      db!.pool.query<{ event_id: string }>(
        `SELECT event_id FROM eventstore.append_events('counter-a', 'any', ARRAY[gen_random_uuid()],
           ARRAY['CounterIncremented'], ARRAY[$2::int], ARRAY[$1::jsonb], ARRAY[$3::jsonb])`,
        [JSON.stringify(data), schemaVersion, JSON.stringify(testMetadata())],
      );
    await append({ amount: 3 }, 1); // v1 called it "amount": upcast, valid
    const v1WithV2Shape = await append({ by: 3 }, 1);
    const fromTheFuture = await append({ by: 3 }, 3);
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: 'invalid-payload',
        eventId: v1WithV2Shape.rows[0]!.event_id,
        message: expect.stringContaining('CounterIncremented v1 payload invalid'),
      }),
      expect.objectContaining({
        kind: 'invalid-payload',
        eventId: fromTheFuture.rows[0]!.event_id,
        message: expect.stringContaining(
          'stored schema version 3 is newer than this process knows',
        ),
      }),
    ]);
  });

  it('reports a version stored twice, once the unique constraint is gone', async () => {
    ({ db } = await seededDatabase());
    const v5 = await eventAt(db, 'counter-a', 5);
    const v6 = await eventAt(db, 'counter-a', 6);
    await tamper(
      db,
      `ALTER TABLE eventstore.events DROP CONSTRAINT events_stream_id_stream_version_key`,
      `UPDATE eventstore.events SET stream_version = 4 WHERE event_id = '${v5.event_id}'`,
    );
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    expect(report.discrepancies).toEqual([
      expect.objectContaining({
        kind: 'version-duplicate',
        streamId: 'counter-a',
        streamVersion: '4',
        eventId: v5.event_id,
        message: expect.stringContaining('version 4 is stored more than once'),
      }),
      expect.objectContaining({
        kind: 'version-gap',
        streamId: 'counter-a',
        streamVersion: '5',
        eventId: v6.event_id,
      }),
    ]);
  });

  it('reports a global position held by two events', async () => {
    ({ db } = await seededDatabase());
    const first = await eventAt(db, 'counter-a', 1);
    const note = await eventAt(db, 'note-x', 1);
    await tamper(
      db,
      `ALTER TABLE eventstore.events DROP CONSTRAINT events_pkey`,
      `ALTER TABLE eventstore.events ALTER COLUMN global_position SET GENERATED BY DEFAULT`,
      `UPDATE eventstore.events SET global_position = ${first.global_position} WHERE event_id = '${note.event_id}'`,
    );
    const report = await verifyEventLog({ pool: db.pool, catalogue: testCatalogue });
    expect(report.discrepancies).toEqual([
      {
        kind: 'global-order',
        message: `global position ${first.global_position} is held by 2 events`,
        globalPosition: first.global_position,
      },
    ]);
  });

  it('caps the listed discrepancies but counts them all', async () => {
    ({ db } = await seededDatabase());
    await tamper(
      db,
      `UPDATE eventstore.events SET data = '{"by": 7}' WHERE type = 'CounterIncremented'`,
    );
    const report = await verifyEventLog({
      pool: db.pool,
      catalogue: testCatalogue,
      maxDiscrepancies: 3,
    });
    expect(report.discrepancies).toHaveLength(3);
    expect(report.discrepancyCount).toBe(20);
    expect(formatVerifyReport(report)).toContain('FAILED: 20 discrepancies (first 3 listed)');
  });
});

describe('verifyEventLog as the audit reader role', () => {
  it('verifies log and projections as a role that can only read, and that role cannot change events', async () => {
    const { db } = await seededDatabase();
    const role = `${db.name}_audit`;
    const admin = db.pool;
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`GRANT pg_read_all_data TO ${role}`);
    await admin.query(`GRANT TEMPORARY ON DATABASE ${db.name} TO ${role}`);
    const url = new URL(db.url);
    url.username = role;
    const auditor = new pg.Pool({ connectionString: url.toString() });
    // The replay runs on the auditor's connections too: a reader that may create nothing.
    const auditorDatabase = await openDatabase({
      url: url.toString(),
      schema: 'live',
      createSchema: false,
      applicationName: 'auditor',
      entities: [...CONSUMER_ENTITIES, ...projection.entities],
    });
    try {
      const before = await counts(db);
      const report = await verify(db, auditor, auditorDatabase);
      expect(report).toMatchObject({
        events: 25,
        streams: 5,
        ok: true,
        discrepancies: [],
        projections: [{ name: 'counters', equal: true }],
      });
      expect(await counts(db)).toEqual(before);
      const { rows } = await auditor.query<{ event_id: string }>(
        'SELECT event_id FROM eventstore.events LIMIT 1',
      );
      const id = rows[0]!.event_id;
      for (const sql of [
        `INSERT INTO eventstore.events (transaction_id, event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at, hash)
         VALUES (pg_current_xact_id(), gen_random_uuid(), 'counter-z', 1, 'CounterOpened', 1, '{}', '{}', now(), 'x')`,
        `UPDATE eventstore.events SET data = '{}' WHERE event_id = '${id}'`,
        `DELETE FROM eventstore.events WHERE event_id = '${id}'`,
        `UPDATE eventstore.streams SET version = 0`,
        `UPDATE live.counters SET total = 0`,
        `SELECT eventstore.append_events('counter-z', 'any', ARRAY[gen_random_uuid()], ARRAY['CounterOpened'], ARRAY[1], ARRAY['{"label":"z"}'::jsonb], ARRAY['{}'::jsonb])`,
      ]) {
        await expect(auditor.query(sql)).rejects.toMatchObject({ code: '42501' });
      }
      expect(await counts(db)).toEqual(before);
    } finally {
      await auditor.end();
      await auditorDatabase.destroy();
      for (const d of seeded.splice(0)) await d.destroy();
      await db.drop();
      const a = new pg.Client({ connectionString: TEST_ADMIN_URL });
      await a.connect();
      await a.query(`DROP ROLE IF EXISTS ${role}`).finally(() => a.end());
    }
  });
});
