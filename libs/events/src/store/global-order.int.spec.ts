import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { PoolClient } from 'pg';
import { START_OF_LOG, type GlobalCheckpoint, type StoredEvent } from './event.js';
import { PostgresEventStore } from './event-store.js';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import { testCatalogue, testMetadata } from '../test-support/test-events.js';

/** Reads until `expected` events arrived or the deadline passed (other runs' transactions may hold xmin back). */
async function drain(
  store: PostgresEventStore,
  from: GlobalCheckpoint,
  expected: number,
  seen: StoredEvent[] = [],
) {
  let checkpoint = from;
  const deadline = Date.now() + 15_000;
  while (seen.length < expected && Date.now() < deadline) {
    const page = await store.readAll({ after: checkpoint, limit: 7 });
    seen.push(...page.events);
    checkpoint = page.checkpoint;
    if (page.events.length === 0) await new Promise((r) => setTimeout(r, 20));
  }
  return { seen, checkpoint };
}

describe('global order', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore(db.pool, testCatalogue);
    await store.migrate();
  });
  afterAll(async () => db.drop());

  it('does not skip a slow transaction that took its position before a fast one committed', async () => {
    const slow = await db.pool.connect();
    try {
      // 1. The slow writer opens a transaction and appends: it takes global_position p, uncommitted.
      await slow.query('BEGIN');
      const slowAppend = await store.append(
        'counter-slow',
        [{ type: 'CounterOpened', data: { label: 'slow' } }],
        { expected: 'any', metadata: testMetadata() },
        slow,
      );
      const slowPosition = slowAppend.events[0]!.globalPosition;

      // 2. A fast writer appends and commits: it takes position p+1 and is visible to everyone.
      const fastAppend = await store.append(
        'counter-fast',
        [{ type: 'CounterOpened', data: { label: 'fast' } }],
        { expected: 'any', metadata: testMetadata() },
      );
      const fastPosition = fastAppend.events[0]!.globalPosition;
      expect(fastPosition).toBeGreaterThan(slowPosition);

      // 3. A naive reader ordered by global_position alone sees the fast event and moves past p+1...
      const naive = await db.pool.query<{ global_position: string }>(
        `SELECT global_position FROM eventstore.events WHERE global_position > 0 ORDER BY global_position`,
      );
      expect(naive.rows.map((r) => BigInt(r.global_position))).toContain(fastPosition);

      // ...whereas the gap-safe reader holds back everything at or after the running transaction.
      const first = await store.readAll({ after: START_OF_LOG });
      expect(first.events.map((e) => e.event_id)).not.toContain(fastAppend.events[0]!.eventId);

      // 4. The slow writer commits. The naive reader, at p+1, would now skip p for ever.
      await slow.query('COMMIT');
      const naiveAfter = await db.pool.query(
        `SELECT 1 FROM eventstore.events WHERE global_position > $1 AND stream_id = 'counter-slow'`,
        [fastPosition.toString()],
      );
      expect(naiveAfter.rows).toHaveLength(0);

      // 5. The gap-safe reader, continuing from its checkpoint, yields the slow event, then the fast one.
      const { seen } = await drain(store, first.checkpoint, 2, [...first.events]);
      const ids = seen.map((e) => e.event_id);
      expect(ids).toEqual([slowAppend.events[0]!.eventId, fastAppend.events[0]!.eventId]);
    } finally {
      slow.release();
    }
  });

  it('yields every committed event exactly once, in one consistent order, never a rolled-back one (random interleavings)', async () => {
    const CONNECTIONS = 3;
    const step = fc.oneof(
      fc.record({ kind: fc.constant('begin' as const), conn: fc.nat(CONNECTIONS - 1) }),
      fc.record({
        kind: fc.constant('append' as const),
        conn: fc.nat(CONNECTIONS - 1),
        size: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({ kind: fc.constant('commit' as const), conn: fc.nat(CONNECTIONS - 1) }),
      fc.record({ kind: fc.constant('rollback' as const), conn: fc.nat(CONNECTIONS - 1) }),
      fc.record({ kind: fc.constant('read' as const) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
        run++;
        const clients: PoolClient[] = await Promise.all(
          Array.from({ length: CONNECTIONS }, () => db.pool.connect()),
        );
        const start = (await store.readAll({ after: START_OF_LOG, limit: 1_000_000 })).checkpoint;
        const open = new Array<boolean>(CONNECTIONS).fill(false);
        const pending: string[][] = Array.from({ length: CONNECTIONS }, () => []);
        const committed = new Set<string>();
        const rolledBack = new Set<string>();
        const seen: StoredEvent[] = [];
        let checkpoint = start;
        let n = 0;
        try {
          for (const s of steps) {
            if (s.kind === 'read') {
              const page = await store.readAll({ after: checkpoint, limit: 5 });
              seen.push(...page.events);
              checkpoint = page.checkpoint;
              continue;
            }
            const c = clients[s.conn]!;
            if (s.kind === 'begin' && !open[s.conn]) {
              await c.query('BEGIN');
              open[s.conn] = true;
            } else if (s.kind === 'append') {
              // Each append has its own stream, so open transactions never wait on each other.
              const r = await store.append(
                `counter-p${run}x${n++}`,
                Array.from({ length: s.size }, (_, i) => ({
                  type: 'CounterIncremented',
                  data: { by: i + 1 },
                })),
                { expected: 'no_stream', metadata: testMetadata() },
                c,
              );
              const ids = r.events.map((e) => e.eventId);
              if (open[s.conn]) pending[s.conn]!.push(...ids);
              else ids.forEach((id) => committed.add(id));
            } else if ((s.kind === 'commit' || s.kind === 'rollback') && open[s.conn]) {
              await c.query(s.kind === 'commit' ? 'COMMIT' : 'ROLLBACK');
              pending[s.conn]!.forEach((id) =>
                (s.kind === 'commit' ? committed : rolledBack).add(id),
              );
              pending[s.conn] = [];
              open[s.conn] = false;
            }
          }
          for (let i = 0; i < CONNECTIONS; i++) {
            if (open[i]) {
              await clients[i]!.query('COMMIT');
              pending[i]!.forEach((id) => committed.add(id));
            }
          }
        } finally {
          clients.forEach((c) => c.release());
        }
        const { seen: all } = await drain(store, checkpoint, committed.size, seen);
        const ids = all.map((e) => e.event_id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(committed);
        expect(ids.filter((id) => rolledBack.has(id))).toEqual([]);
        // One consistent order: a reader that starts over now sees the same sequence.
        const again = await drain(store, start, committed.size);
        expect(again.seen.map((e) => e.event_id)).toEqual(ids);
      }),
      { numRuns: 40 },
    );
  });
});
