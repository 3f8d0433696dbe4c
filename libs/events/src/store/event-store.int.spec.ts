import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ConcurrencyError,
  EventTooLargeError,
  EventValidationError,
  IdempotencyConflictError,
  SecretInEventError,
  UnknownEventTypeError,
} from './errors.js';
import { newEventId } from './event.js';
import { PostgresEventStore } from './event-store.js';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import { testCatalogue, testMetadata } from '../test-support/test-events.js';

const CANARY = 'ghp_CANARYcanaryCANARYcanary0123456789';

describe('PostgresEventStore', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore(db.pool, testCatalogue, { secrets: [CANARY] });
    await store.migrate();
  });
  afterAll(async () => db.drop());

  const count = async (stream?: string) =>
    Number(
      (
        await db.pool.query<{ n: string }>(
          'SELECT count(*) AS n FROM eventstore.events WHERE $1::text IS NULL OR stream_id = $1',
          [stream ?? null],
        )
      ).rows[0]!.n,
    );

  it('appends events with contiguous versions and metadata, and reads them back in order', async () => {
    const meta = testMetadata({ correlation_id: 'c-1', causation_id: 'cmd-1' });
    const r = await store.append(
      'counter-a',
      [
        { type: 'CounterOpened', data: { label: 'a' } },
        { type: 'CounterIncremented', data: { by: 2 } },
      ],
      { expected: 'no_stream', metadata: meta },
    );
    expect(r.written).toBe(true);
    expect(r.nextExpectedVersion).toBe(2n);
    const events = await store.readStream('counter-a');
    expect(events.map((e) => [e.stream_version, e.type, e.data])).toEqual([
      [1n, 'CounterOpened', { label: 'a' }],
      [2n, 'CounterIncremented', { by: 2 }],
    ]);
    expect(events[0]!.metadata).toEqual(meta);
  });

  it('chains each stream: hash = sha256(previous hash ‖ canonical event), recomputable by an auditor', async () => {
    await store.append('counter-chain', [{ type: 'CounterOpened', data: { label: 'x' } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    await store.append('counter-chain', [{ type: 'CounterIncremented', data: { by: 1 } }], {
      expected: 1,
      metadata: testMetadata(),
    });
    await store.append('counter-chain', [{ type: 'CounterIncremented', data: { by: 5 } }], {
      expected: 2,
      metadata: testMetadata(),
    });
    const { rows } = await db.pool.query<{ hash: string; canonical: string }>(
      `SELECT hash, eventstore.event_canonical(stream_id, stream_version, event_id, type, schema_version, eventstore.canonical_time(recorded_at), data, metadata) AS canonical
         FROM eventstore.events WHERE stream_id = 'counter-chain' ORDER BY stream_version`,
    );
    let previous = Buffer.alloc(0);
    for (const row of rows) {
      const expected = createHash('sha256')
        .update(previous)
        .update(row.canonical, 'utf8')
        .digest('hex');
      expect(row.hash).toBe(expected);
      previous = Buffer.from(row.hash, 'hex');
    }
    expect(rows).toHaveLength(3);
  });

  it('100 rounds of two concurrent appends with the same expected version: exactly one wins each round', async () => {
    const stream = 'counter-race';
    const writers = [await db.pool.connect(), await db.pool.connect()];
    const winners: string[] = [];
    try {
      let version = 0n;
      for (let round = 0; round < 100; round++) {
        const expected = version === 0n ? ('no_stream' as const) : version;
        const ids = [newEventId(), newEventId()];
        // Both writers open a transaction and append with the same expectation. The first to get
        // the stream holds it until it commits, so the second is still inside its append then.
        await Promise.all(writers.map((w) => w.query('BEGIN')));
        const attempts = writers.map((w, i) =>
          store
            .append(
              stream,
              [{ event_id: ids[i]!, type: 'CounterIncremented', data: { by: i + 1 } }],
              { expected, metadata: testMetadata() },
              w,
            )
            .then(
              () => ({ writer: i, ok: true as const }),
              (error: unknown) => ({ writer: i, ok: false as const, error }),
            ),
        );
        const first = await Promise.race(attempts);
        expect(first.ok).toBe(true);
        await new Promise((r) => setTimeout(r, 2));
        await writers[first.writer]!.query('COMMIT');
        const second = await attempts[1 - first.writer]!;
        await writers[second.writer]!.query('ROLLBACK');
        expect(second.ok).toBe(false);
        expect(second.ok ? null : second.error).toBeInstanceOf(ConcurrencyError);
        winners.push(ids[first.writer]!);
        version += 1n;
      }
    } finally {
      writers.forEach((w) => w.release());
    }
    const stored = await store.readStream(stream);
    expect(stored.map((e) => e.event_id)).toEqual(winners);
    expect(stored.map((e) => e.stream_version)).toEqual(winners.map((_, i) => BigInt(i + 1)));
  });

  it('refuses an exact expected version that does not match, naming the actual version', async () => {
    await store.append('counter-b', [{ type: 'CounterOpened', data: { label: 'b' } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    const err = await store
      .append('counter-b', [{ type: 'CounterIncremented', data: { by: 1 } }], {
        expected: 5,
        metadata: testMetadata(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConcurrencyError);
    expect((err as ConcurrencyError).actual).toBe(1n);
    await expect(
      store.append('counter-b', [{ type: 'CounterIncremented', data: { by: 1 } }], {
        expected: 'no_stream',
        metadata: testMetadata(),
      }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(
      store.append('counter-none', [{ type: 'CounterIncremented', data: { by: 1 } }], {
        expected: 'stream_exists',
        metadata: testMetadata(),
      }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await count('counter-b')).toBe(1);
    expect(await count('counter-none')).toBe(0);
  });

  it('treats a retry with the same event ids and content as a success that writes nothing', async () => {
    const events = [
      { event_id: newEventId(), type: 'CounterOpened', data: { label: 'r' } },
      { event_id: newEventId(), type: 'CounterIncremented', data: { by: 3 } },
    ];
    const first = await store.append('counter-retry', events, {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    // The retry carries the original expectation, which no longer holds: it must still succeed.
    const retry = await store.append('counter-retry', events, {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    expect(first.written).toBe(true);
    expect(retry.written).toBe(false);
    expect(retry.events).toEqual(first.events);
    expect(await count('counter-retry')).toBe(2);
  });

  it('refuses an event id already stored with different content, and writes nothing', async () => {
    const id = newEventId();
    await store.append(
      'counter-reuse',
      [{ event_id: id, type: 'CounterOpened', data: { label: 'one' } }],
      { expected: 'any', metadata: testMetadata() },
    );
    const err = await store
      .append('counter-reuse', [{ event_id: id, type: 'CounterOpened', data: { label: 'two' } }], {
        expected: 'any',
        metadata: testMetadata(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyConflictError);
    expect((err as Error).message).toContain(id);
    expect(await count('counter-reuse')).toBe(1);
  });

  it('lets the database itself refuse UPDATE, DELETE and TRUNCATE of events, even for a superuser', async () => {
    await store.append('counter-frozen', [{ type: 'CounterOpened', data: { label: 'f' } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    await expect(
      db.pool.query(
        `UPDATE eventstore.events SET data = '{"label":"forged"}' WHERE stream_id = 'counter-frozen'`,
      ),
    ).rejects.toThrow(/append-only: UPDATE is refused/);
    await expect(
      db.pool.query(`DELETE FROM eventstore.events WHERE stream_id = 'counter-frozen'`),
    ).rejects.toThrow(/append-only: DELETE/);
    await expect(db.pool.query('TRUNCATE eventstore.events')).rejects.toThrow(
      /append-only: TRUNCATE/,
    );
    const [e] = await store.readStream('counter-frozen');
    expect(e!.data).toEqual({ label: 'f' });
  });

  it('grants the writer role SELECT and INSERT on events but not UPDATE or DELETE', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE campaigns_event_writer');
      await client.query(
        `SELECT eventstore.append_events('counter-role', 'any', ARRAY[$1]::uuid[], ARRAY['CounterOpened'], ARRAY[1], ARRAY['{"label":"r"}']::jsonb[], ARRAY['{}']::jsonb[])`,
        [newEventId()],
      );
      await client.query('SAVEPOINT s');
      await expect(
        client.query(`UPDATE eventstore.events SET type = 'X' WHERE stream_id = 'counter-role'`),
      ).rejects.toThrow(/permission denied/);
      await client.query('ROLLBACK TO SAVEPOINT s');
      await expect(
        client.query(`DELETE FROM eventstore.events WHERE stream_id = 'counter-role'`),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('rejects unknown types and invalid payloads with the event and field named, storing nothing', async () => {
    const before = await count();
    await expect(
      store.append(
        'counter-bad',
        [
          { type: 'CounterOpened', data: { label: 'ok' } },
          { type: 'CounterExploded', data: {} },
        ],
        {
          expected: 'any',
          metadata: testMetadata(),
        },
      ),
    ).rejects.toBeInstanceOf(UnknownEventTypeError);
    const err = await store
      .append('counter-bad', [{ type: 'CounterIncremented', data: { by: 'three' } }], {
        expected: 'any',
        metadata: testMetadata(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventValidationError);
    expect((err as EventValidationError).field).toBe('data.by');
    expect((err as Error).message).toMatch(/^CounterIncremented\.data\.by: /);
    await expect(
      store.append('counter-bad', [{ type: 'CounterOpened', data: { label: 'x' } }], {
        expected: 'any',
        metadata: { ...testMetadata(), actor: '' },
      }),
    ).rejects.toThrow('CounterOpened.metadata.actor');
    expect(await count()).toBe(before);
  });

  it('refuses payloads over 256 KiB, and accepts them once the large field moves to the blob table', async () => {
    const big = 'x'.repeat(300 * 1024);
    const err = await store
      .append('counter-big', [{ type: 'NoteAttached', data: { text: big } }], {
        expected: 'any',
        metadata: testMetadata(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventTooLargeError);
    expect((err as Error).message).toMatch(/putBlob/);
    expect(await count('counter-big')).toBe(0);

    const blob = await store.putBlob(big);
    const again = await store.putBlob(big);
    expect(again).toEqual(blob);
    await store.append(
      'counter-big',
      [{ type: 'NoteAttached', data: { text: 'see blob', blob } }],
      { expected: 'any', metadata: testMetadata() },
    );
    const [note] = await store.readStream('counter-big');
    const content = await store.getBlob((note!.data as { blob: { sha256: string } }).blob.sha256);
    expect(content?.toString()).toBe(big);
  });

  it('never stores a configured secret, and never repeats it in the error', async () => {
    const before = await count();
    const err = await store
      .append('counter-secret', [{ type: 'CounterOpened', data: { label: `token ${CANARY}` } }], {
        expected: 'any',
        metadata: testMetadata(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretInEventError);
    expect((err as Error).message).not.toContain(CANARY);
    await expect(store.putBlob(`diff --git a/x\n+${CANARY}\n`)).rejects.toBeInstanceOf(
      SecretInEventError,
    );
    expect(await count()).toBe(before);
    const { rows } = await db.pool.query(
      `SELECT 1 FROM eventstore.events WHERE data::text LIKE '%' || $1 || '%'`,
      [CANARY],
    );
    expect(rows).toHaveLength(0);
  });

  it('refuses a secret that JSON escapes (a quote, a backslash, a newline in it) as well', async () => {
    const tricky = ['pa"ss\\word-quoted-0123', 'line-one\nline-two-0123', 'tab\tseparated-0123'];
    const strict = new PostgresEventStore(db.pool, testCatalogue, { secrets: tricky });
    const before = await count();
    for (const secret of tricky) {
      await expect(
        strict.append(
          'counter-escaped',
          [{ type: 'CounterOpened', data: { label: `token ${secret}` } }],
          { expected: 'any', metadata: testMetadata() },
        ),
      ).rejects.toBeInstanceOf(SecretInEventError);
      await expect(
        strict.append('counter-escaped', [{ type: 'CounterOpened', data: { label: 'x' } }], {
          expected: 'any',
          metadata: { ...testMetadata(), actor: secret },
        }),
      ).rejects.toBeInstanceOf(SecretInEventError);
    }
    expect(await count()).toBe(before);
  });

  it('upcasts payloads stored under an older schema version when reading', async () => {
    // A v1 CounterIncremented, as an older release would have written it.
    await db.pool.query(
      `SELECT eventstore.append_events('counter-old', 'any', ARRAY[$1]::uuid[], ARRAY['CounterIncremented'], ARRAY[1],
         ARRAY['{"amount":7}']::jsonb[], ARRAY[$2]::jsonb[])`,
      [newEventId(), JSON.stringify(testMetadata())],
    );
    const [e] = await store.readStream('counter-old');
    expect(e!.data).toEqual({ by: 7 });
    expect(e!.schema_version).toBe(2);
  });

  it('runs its migrations idempotently, also when two instances start at once', async () => {
    const fresh = await createTestDatabase();
    try {
      const a = new PostgresEventStore(fresh.pool, testCatalogue);
      const b = new PostgresEventStore(fresh.pool, testCatalogue);
      await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
      const { rows } = await fresh.pool.query(
        `SELECT version FROM campaigns_schema_migrations WHERE component = 'eventstore' ORDER BY version`,
      );
      expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
      // Audit reads one campaign's history in global order through the index migration 2 adds.
      const client = await fresh.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL enable_seqscan = off');
        const plan = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT event_id FROM eventstore.events
            WHERE data->>'campaign' = 'hello-world' ORDER BY transaction_id, global_position`,
        );
        expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('events_by_campaign');
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
      await a.append('counter-m', [{ type: 'CounterOpened', data: { label: 'm' } }], {
        expected: 'no_stream',
        metadata: testMetadata(),
      });
    } finally {
      await fresh.drop();
    }
  });

  describe('appendToStreams', () => {
    it('appends one event to each of many streams in one call, each checked against its own expectation', async () => {
      await store.append('many-existing', [{ type: 'CounterOpened', data: { label: 'e' } }], {
        expected: 'no_stream',
        metadata: testMetadata(),
      });
      const appends = [
        ...Array.from({ length: 1200 }, (_, i) => ({
          stream: `many-${i}`,
          event: { type: 'CounterOpened', data: { label: String(i) } },
          expected: 'no_stream' as const,
        })),
        {
          stream: 'many-existing',
          event: { type: 'CounterIncremented', data: { by: 3 } },
          expected: 1n,
        },
      ];
      const results = await store.appendToStreams(appends, testMetadata());
      expect(results).toHaveLength(1201);
      expect(results.map((r) => r.stream)).toEqual(appends.map((a) => a.stream));
      expect(results.every((r) => r.written)).toBe(true);
      expect(results[1200]!.streamVersion).toBe(2n);
      expect(await count('many-17')).toBe(1);
      expect((await store.readStream('many-existing')).map((e) => e.type)).toEqual([
        'CounterOpened',
        'CounterIncremented',
      ]);
    });

    it('stores nothing of a batch inside a transaction when one stream is not at its expected version', async () => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await expect(
          store.appendToStreams(
            [
              {
                stream: 'batch-a',
                event: { type: 'CounterOpened', data: { label: 'a' } },
                expected: 'no_stream',
              },
              {
                stream: 'many-existing',
                event: { type: 'CounterIncremented', data: { by: 1 } },
                expected: 1n,
              },
            ],
            testMetadata(),
            client,
          ),
        ).rejects.toThrow(ConcurrencyError);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      expect(await count('batch-a')).toBe(0);
    });

    it('treats a repeated batch with the same event ids as already written, and refuses a secret before sending anything', async () => {
      const id = newEventId();
      const batch = [
        {
          stream: 'batch-retry',
          event: { event_id: id, type: 'CounterOpened', data: { label: 'r' } },
          expected: 'any' as const,
        },
      ];
      const meta = testMetadata();
      expect((await store.appendToStreams(batch, meta))[0]!.written).toBe(true);
      expect((await store.appendToStreams(batch, meta))[0]!.written).toBe(false);
      await expect(
        store.appendToStreams(
          [
            {
              stream: 'batch-s1',
              event: { type: 'CounterOpened', data: { label: 'ok' } },
              expected: 'any',
            },
            {
              stream: 'batch-s2',
              event: { type: 'CounterOpened', data: { label: CANARY } },
              expected: 'any',
            },
          ],
          meta,
        ),
      ).rejects.toThrow(SecretInEventError);
      expect(await count('batch-s1')).toBe(0);
    });
  });
});
