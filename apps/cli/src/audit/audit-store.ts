import {
  campaignStream,
  EVENT_COLUMNS,
  openDatabase,
  rowToEvent,
  type EntityClass,
  type EventRow,
  type StoredEvent,
  withDatabasePassword,
} from '@campaigns/events';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { UsageError } from '../command.js';

export const DEFAULT_AUDIT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/campaigns';

/**
 * `AUDIT_DATABASE_URL`, else `DATABASE_URL`, else the local default; with the password from
 * `DATABASE_PASSWORD` or `DATABASE_PASSWORD_FILE` when one is set.
 */
export function auditDatabaseUrl(env: NodeJS.ProcessEnv): string {
  const url = env.AUDIT_DATABASE_URL || env.DATABASE_URL || DEFAULT_AUDIT_DATABASE_URL;
  const withPassword = withDatabasePassword(url, env);
  if (withPassword.problem !== undefined) throw new UsageError(withPassword.problem);
  return withPassword.url;
}

/** A small pool for one CLI run; errors on idle connections never crash the process. */
export function auditPool(env: NodeJS.ProcessEnv): pg.Pool {
  const pool = new pg.Pool({
    connectionString: auditDatabaseUrl(env),
    max: 2,
    application_name: 'campaign-audit',
  });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A DataSource for replays (`--verify`, `--at`): it lists the projections' entities, whose bare
 * table names resolve to the session's temporary copies; it creates nothing durable.
 */
export function auditDatabase(
  env: NodeJS.ProcessEnv,
  entities: readonly EntityClass[],
): Promise<DataSource> {
  return openDatabase({
    url: auditDatabaseUrl(env),
    schema: 'public',
    createSchema: false,
    applicationName: 'campaign-audit',
    poolSize: 1,
    entities: [...new Set(entities)],
  });
}

/**
 * Runs `fn` in one REPEATABLE READ, READ ONLY transaction (one consistent snapshot; the
 * database refuses any write), always rolled back. `prepare` runs first, outside it, on the same
 * session: the only place for DDL on temporary tables, which read-only transactions refuse.
 */
export async function readOnly<T>(
  db: pg.Pool | pg.PoolClient,
  fn: (client: pg.PoolClient) => Promise<T>,
  prepare?: (client: pg.PoolClient) => Promise<void>,
): Promise<T> {
  // A pool: a session of our own. A session someone else holds: theirs to release, and its
  // temporary tables are dropped rather than left to whoever uses it next.
  const owned = db instanceof pg.Pool;
  const client = owned ? await db.connect() : db;
  if (owned) client.on('error', () => undefined);
  let broken = prepare !== undefined;
  try {
    if (prepare) await prepare(client);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      return await fn(client);
    } finally {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
    }
  } finally {
    // A session that made temporary tables is not handed back: they belong to it.
    if (owned) client.release(broken);
    else if (prepare) await client.query('DISCARD TEMP').catch(() => undefined);
  }
}

export async function campaignExists(db: pg.ClientBase, campaign: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM eventstore.events WHERE stream_id = $1 LIMIT 1`, [
    campaignStream(campaign),
  ]);
  return rows.length > 0;
}

export interface EventRange {
  since?: Date;
  until?: Date;
  /** Only the streams of this category (`changeset` for `changeset-<id>`). */
  category?: string;
}

const BATCH = 5000;

/**
 * Every event of one campaign (`data->>'campaign'`), in global order
 * `(transaction_id, global_position)`, recorded within the range (inclusive), as stored.
 */
export async function campaignEvents(
  db: pg.ClientBase,
  campaign: string,
  range: EventRange = {},
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let after = { tx: '0', pos: '0' };
  for (;;) {
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM eventstore.events
        WHERE data->>'campaign' = $1
          AND (transaction_id, global_position) > ($2::xid8, $3::bigint)
          AND ($4::timestamptz IS NULL OR recorded_at >= $4)
          AND ($5::timestamptz IS NULL OR recorded_at <= $5)
          AND ($7::text IS NULL OR starts_with(stream_id, $7 || '-'))
        ORDER BY transaction_id, global_position LIMIT $6`,
      [
        campaign,
        after.tx,
        after.pos,
        range.since?.toISOString() ?? null,
        range.until?.toISOString() ?? null,
        BATCH,
        range.category ?? null,
      ],
    );
    out.push(...rows.map(rowToEvent));
    if (rows.length < BATCH) return out;
    const last = rows.at(-1)!;
    after = { tx: last.transaction_id, pos: last.global_position };
  }
}

/** The spec text applied last before `before` (what the first SpecApplied in range is diffed against). */
export async function specTextBefore(
  db: pg.ClientBase,
  campaign: string,
  before: Date,
): Promise<string | null> {
  const { rows } = await db.query<{ spec_text: string }>(
    `SELECT data->>'specText' AS spec_text FROM eventstore.events
      WHERE stream_id = $1 AND type = 'SpecApplied' AND recorded_at < $2
      ORDER BY stream_version DESC LIMIT 1`,
    [campaignStream(campaign), before.toISOString()],
  );
  return rows[0]?.spec_text ?? null;
}
