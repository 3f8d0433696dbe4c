import {
  campaignsCatalogue,
  campaignStream,
  PostgresEventStore,
  type StoredEvent,
} from '@campaigns/events';
import type pg from 'pg';
import { campaignEvents, campaignExists, readOnly } from './event-log.js';

/** What `campaign burndown` folds: a campaign's changeset events up to `until`, one snapshot. */
export type BurndownLog =
  | { found: false }
  | {
      found: true;
      /**
       * The campaign's first application by `until`: after `deletedAt` when a campaign of that
       * name was deleted by then (the name applied anew is a new campaign). Null when none.
       */
      start: Date | null;
      /** The last `CampaignDeleted` by `until`, or null. */
      deletedAt: Date | null;
      until: Date;
      events: StoredEvent[];
    };

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
    const end = until ?? (await db.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
    const { rows } = await db.query<{ deleted_at: Date | null; start: Date | null }>(
      `WITH d AS (SELECT max(recorded_at) AS deleted_at FROM eventstore.events
                   WHERE stream_id = $1 AND type = 'CampaignDeleted' AND recorded_at <= $2)
       SELECT d.deleted_at,
              (SELECT min(recorded_at) FROM eventstore.events
                WHERE stream_id = $1 AND type = 'SpecApplied' AND recorded_at <= $2
                  AND (d.deleted_at IS NULL OR recorded_at > d.deleted_at)) AS start
         FROM d`,
      [campaignStream(campaign), end.toISOString()],
    );
    const { start, deleted_at: deletedAt } = rows[0]!;
    if (start === null) return { found: true, start, deletedAt, until: end, events: [] };
    // Only changeset streams count; the rest (executions' patches) need not be held. Streams are
    // read from their first version (a name applied anew continues its changesets' streams).
    const events = (await campaignEvents(db, campaign, { until: end, category: 'changeset' })).map(
      (e) => store.upcast(e),
    );
    return { found: true, start, deletedAt, until: end, events };
  });
}
