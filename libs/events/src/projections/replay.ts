import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import {
  EVENT_COLUMNS,
  rowToEvent,
  type EventRow,
  type PostgresEventStore,
} from '../store/event-store.js';
import { assertIdentifier, type ProjectionDefinition } from './projection.js';
import { StreamOrder } from './stream-order.js';
import type { StoredEvent } from '../store/event.js';

/** One row that differs between the live projection and its replay, identified by its key. */
export interface RowDifference {
  table: string;
  key: Record<string, unknown>;
  live: Record<string, unknown> | null;
  replayed: Record<string, unknown> | null;
}

export interface ReplayReport {
  projection: string;
  liveSchema: string;
  eventsReplayed: number;
  tables: { name: string; liveRows: number; replayedRows: number }[];
  differences: RowDifference[];
  equal: boolean;
}

const REPLAY_BATCH = 1000;

/**
 * Rebuilds a projection from the event store into a scratch schema and compares it, row by row,
 * with the live one. Runs in one REPEATABLE READ, READ ONLY transaction with the scratch copy in
 * the session's temporary schema: it writes nothing durable, and it sees the live tables and the
 * live per-stream checkpoints at the same instant, so it replays exactly the events the live
 * projection had applied (skipping its dead letters) even while the consumer keeps running.
 */
export async function replayProjection(options: {
  store: PostgresEventStore;
  /** Lists the projection's entities; its connection holds the scratch tables, then is closed. */
  database: DataSource;
  projection: ProjectionDefinition;
  liveSchema: string;
  /** Most differences listed (default 100); `equal` still counts them all. */
  maxDifferences?: number;
}): Promise<ReplayReport> {
  const { store, database, projection, liveSchema } = options;
  assertIdentifier('schema', liveSchema);
  for (const entity of projection.entities)
    if (!database.hasMetadata(entity))
      throw new Error(
        `replay of ${projection.name}: the DataSource does not list its entity ${String((entity as { name?: string }).name)}`,
      );
  const runner = database.createQueryRunner();
  const tx = (await runner.connect()) as PoolClient;
  try {
    const scratch = 'pg_temp';
    // Only the projection's own tables: the scratch copy needs no checkpoints or dead letters.
    // DDL is refused in a read-only transaction, even for temporary tables, so it comes first.
    for (const m of projection.migrations(scratch)) await tx.query(m.sql);
    await tx.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');

    const bounds = await liveBounds(tx, liveSchema, projection.name);
    // Unqualified names (the entities' tables) resolve to the temporary schema first.
    const eventsReplayed = await replayInto(tx, runner.manager, store, projection, scratch, bounds);

    const tables: ReplayReport['tables'] = [];
    const differences: RowDifference[] = [];
    let differenceCount = 0;
    for (const t of projection.tables) {
      assertIdentifier('table', t.name);
      const counts = await tx.query<{ live: string; replayed: string }>(
        `SELECT (SELECT count(*) FROM ${liveSchema}.${t.name}) AS live, (SELECT count(*) FROM ${scratch}.${t.name}) AS replayed`,
      );
      tables.push({
        name: t.name,
        liveRows: Number(counts.rows[0]!.live),
        replayedRows: Number(counts.rows[0]!.replayed),
      });
      const diff = await compareTable(tx, t, liveSchema, scratch);
      differenceCount += diff.length;
      differences.push(
        ...diff.slice(0, Math.max(0, (options.maxDifferences ?? 100) - differences.length)),
      );
    }
    return {
      projection: projection.name,
      liveSchema,
      eventsReplayed,
      tables,
      differences,
      equal: differenceCount === 0,
    };
  } finally {
    await tx.query('ROLLBACK').catch(() => undefined);
    // Temporary tables belong to the session: drop them before the connection goes back.
    await tx.query('DISCARD TEMP').catch(() => undefined);
    await runner.release();
  }
}

interface Bounds {
  /** Last applied version per stream in the live projection. */
  checkpoints: Map<string, bigint>;
  /** Events the live consumer dead-lettered (skipped). */
  deadLetters: Set<string>;
}

async function liveBounds(tx: PoolClient, schema: string, projection: string): Promise<Bounds> {
  const cps = await tx.query<{ stream_id: string; stream_version: string }>(
    `SELECT stream_id, stream_version FROM ${schema}.projection_checkpoints WHERE projection = $1`,
    [projection],
  );
  const dls = await tx.query<{ event_id: string }>(
    `SELECT event_id FROM ${schema}.dead_letters WHERE projection = $1`,
    [projection],
  );
  return {
    checkpoints: new Map(cps.rows.map((r) => [r.stream_id, BigInt(r.stream_version)])),
    deadLetters: new Set(dls.rows.map((r) => r.event_id)),
  };
}

async function replayInto(
  tx: PoolClient,
  manager: EntityManager,
  store: PostgresEventStore,
  projection: ProjectionDefinition,
  scratch: string,
  bounds: Bounds,
): Promise<number> {
  const prefixes = projection.categories.map((c) => `${c}-`);
  const order = new StreamOrder<StoredEvent>();
  let after = { transactionId: 0n, globalPosition: 0n };
  let replayed = 0;
  for (;;) {
    // Within this snapshot every event up to the live checkpoints is committed and visible.
    const { rows } = await tx.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM eventstore.events
        WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
          AND stream_id LIKE ANY ($3::text[])
        ORDER BY transaction_id, global_position LIMIT $4`,
      [
        after.transactionId.toString(),
        after.globalPosition.toString(),
        prefixes.map((p) => `${p.replace(/[\\%_]/g, '\\$&')}%`),
        REPLAY_BATCH,
      ],
    );
    if (rows.length === 0) return replayed;
    const last = rows[rows.length - 1]!;
    after = {
      transactionId: BigInt(last.transaction_id),
      globalPosition: BigInt(last.global_position),
    };
    // Beyond the live checkpoints nothing is replayed; dead letters keep their place in their
    // stream's order but are not applied, as the consumer skipped them.
    const events = order
      .push(
        rows
          .map(rowToEvent)
          .filter((e) => e.stream_version <= (bounds.checkpoints.get(e.stream_id) ?? 0n)),
      )
      .filter((e) => !bounds.deadLetters.has(e.event_id))
      .map((e) => store.upcast(e));
    if (events.length === 0) continue;
    await projection.handle(events, { tx, manager, schema: scratch });
    replayed += events.length;
  }
}

async function compareTable(
  tx: PoolClient,
  { name: table, key, columns }: ProjectionDefinition['tables'][number],
  live: string,
  scratch: string,
): Promise<RowDifference[]> {
  [...key, ...(columns ?? [])].forEach((k) => assertIdentifier('column', k));
  const select = columns ? columns.join(', ') : '*';
  const keyExpr = `jsonb_build_object(${key.map((k) => `'${k}', r.${k}`).join(', ')})`;
  const { rows } = await tx.query<{
    key: Record<string, unknown>;
    live: Record<string, unknown> | null;
    replayed: Record<string, unknown> | null;
  }>(
    `WITH only_live AS (SELECT ${select} FROM ${live}.${table} EXCEPT ALL SELECT ${select} FROM ${scratch}.${table}),
          only_replayed AS (SELECT ${select} FROM ${scratch}.${table} EXCEPT ALL SELECT ${select} FROM ${live}.${table}),
          l AS (SELECT ${keyExpr} AS key, to_jsonb(r) AS row FROM only_live r),
          p AS (SELECT ${keyExpr} AS key, to_jsonb(r) AS row FROM only_replayed r)
     SELECT coalesce(l.key, p.key) AS key, l.row AS live, p.row AS replayed
       FROM l FULL OUTER JOIN p ON l.key = p.key
      ORDER BY 1`,
  );
  return rows.map((r) => ({ table, key: r.key, live: r.live, replayed: r.replayed }));
}
