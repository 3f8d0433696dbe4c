import {
  campaignsCatalogue,
  campaignStream,
  PostgresEventStore,
  type StoredEvent,
} from '@campaigns/events';
import type pg from 'pg';
import { campaignEvents, campaignExists, readOnly } from './audit-store.js';

/** What `campaign burndown` folds: a campaign's changeset events up to `until`, one snapshot. */
export type BurndownLog =
  | { found: false }
  /** `start` is null when the campaign had not been applied by `until`. */
  | { found: true; start: Date | null; until: Date; events: StoredEvent[] };

/**
 * Reads the campaign's first application and its changeset events recorded by `until` (the
 * database's now when not given), upcast to their current shapes, in one read-only snapshot.
 */
export async function readBurndownLog(
  pool: pg.Pool,
  campaign: string,
  until: Date | undefined,
): Promise<BurndownLog> {
  const store = new PostgresEventStore(pool, campaignsCatalogue());
  return readOnly(pool, async (db) => {
    if (!(await campaignExists(db, campaign))) return { found: false };
    // now() is the transaction's start: with the snapshot, nothing recorded later is read.
    const { rows } = await db.query<{ now: Date; start: Date | null }>(
      `SELECT now() AS now, (SELECT min(recorded_at) FROM eventstore.events
                              WHERE stream_id = $1 AND type = 'SpecApplied') AS start`,
      [campaignStream(campaign)],
    );
    const end = until ?? rows[0]!.now;
    const start = rows[0]!.start;
    if (start === null || start > end) return { found: true, start: null, until: end, events: [] };
    // Only changeset streams count; the rest (executions' patches) need not be held.
    const events = (await campaignEvents(db, campaign, { until: end, category: 'changeset' })).map(
      (e) => store.upcast(e),
    );
    return { found: true, start, until: end, events };
  });
}
