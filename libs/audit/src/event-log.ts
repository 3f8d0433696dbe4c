// Reading a campaign's events from the event store, in read-only snapshots: what `campaign
// audit`, `campaign burndown` and the dashboard read.
import {
  campaignStream,
  EVENT_COLUMNS,
  rowToEvent,
  type EventRow,
  type StoredEvent,
} from '@campaigns/events';
import pg from 'pg';

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
