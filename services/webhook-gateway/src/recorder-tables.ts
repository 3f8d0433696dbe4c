// The first statement of a recorder batch: the delivery ids, the tracked pull requests, the locks
// (recorder-state.ts has the other two). Raw SQL: one set-based statement over unnest(...) arrays
// with data-modifying CTEs, which the QueryBuilder cannot express. A batch is six round trips:
// BEGIN, this, the state read, the writes, the event append, COMMIT.
import type { WebhookDelivery, WebhookFacts } from '@campaigns/codehost';
import type { PoolClient } from 'pg';
import type { TrackedRow } from './delivery-decision.js';
import {
  TRACKED_PULL_REQUESTS_TABLE,
  trackedPullRequestsProjection,
} from './tracked-pull-requests.projection.js';

interface Item {
  delivery: Pick<WebhookDelivery, 'id' | 'event' | 'action'>;
  facts: WebhookFacts;
}

/** What the batch's first statement took and found. */
export interface TakenBatch {
  /** Ids this transaction noted (fresh) or took out of the held deliveries (held). */
  taken: Set<string>;
  /** For each item, fresh ones first, then held ones: the tracked pull requests it concerns. */
  tracked: TrackedRow[][];
}

/**
 * The batch's first statement, one round trip: notes the fresh delivery ids (first, so that a
 * redelivery is found before anything else is done: an id noted before, by an earlier delivery
 * or another gateway, is not taken), takes the held ones out of `parked_deliveries` (another
 * gateway may have), finds for each item the tracked pull requests it concerns (by number, or
 * every one whose head is the named commit) with whether the projection has applied every event
 * of its changeset's stream (only then is what it knows the latest word: the projection's
 * checkpoint and the store's stream version are joined in), and takes the transaction's advisory
 * locks on those pull requests and on `commitKeys`, in one order (by lock key), so two gateways
 * recording about the same pull request take turns and neither reads what the other is about to
 * change. What is locked is read by the next statement, whose snapshot is taken after the locks.
 * Changesets of the noted ids are set once known (`setChangesetIds`).
 */
export async function takeBatch(
  client: PoolClient,
  fresh: readonly Item[],
  held: readonly Item[],
  commitKeys: readonly string[],
): Promise<TakenBatch> {
  const items = [...fresh, ...held];
  const byNumber: [number, string, number][] = [];
  const byHead: [number, string, string][] = [];
  items.forEach(({ facts }, i) => {
    if ('numbers' in facts.target)
      for (const n of facts.target.numbers) byNumber.push([i, facts.repository, n]);
    else byHead.push([i, facts.repository, facts.target.headSha]);
  });
  const { rows } = await client.query<{
    noted: string[];
    unparked: string[];
    tracked: (TrackedRow & { item: number })[];
  }>(
    `WITH noted AS (
       INSERT INTO deliveries (delivery_id, event, action, repository, changeset_ids)
       SELECT d.id, d.event, d.action, d.repository, '{}'
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(id, event, action, repository)
        ORDER BY d.id
       ON CONFLICT (delivery_id) DO NOTHING
       RETURNING delivery_id),
     unparked AS (
       DELETE FROM parked_deliveries WHERE delivery_id = ANY($5::text[]) RETURNING delivery_id),
     found AS (
       SELECT w.item, t.* FROM unnest($6::int[], $7::text[], $8::int[]) AS w(item, repository, number)
         JOIN ${TRACKED_PULL_REQUESTS_TABLE} t ON t.repository = w.repository AND t.number = w.number
       UNION ALL
       SELECT w.item, t.* FROM unnest($9::int[], $10::text[], $11::text[]) AS w(item, repository, head)
         JOIN ${TRACKED_PULL_REQUESTS_TABLE} t ON t.repository = w.repository AND t.head_ref_oid = w.head),
     tracked AS (
       SELECT f.item, f.repository, f.number, f.changeset_id AS "changesetId", f.campaign,
              f.head_branch AS "headBranch", f.head_ref_oid AS "headRefOid", f.url, f.title,
              f.state, f.draft, COALESCE(c.stream_version = s.version, false) AS current
         FROM found f
         LEFT JOIN projection_checkpoints c
           ON c.projection = $12 AND c.stream_id = 'changeset-' || f.changeset_id
         LEFT JOIN eventstore.streams s ON s.stream_id = 'changeset-' || f.changeset_id),
     locked AS (
       SELECT count(pg_advisory_xact_lock(k)) AS n FROM (
         SELECT DISTINCT hashtextextended('webhook-gateway:' || x, 0) AS k FROM (
           SELECT repository || '#' || number AS x FROM found
           UNION ALL SELECT unnest($13::text[])) AS keys
          ORDER BY k) AS ordered)
     SELECT (SELECT n FROM locked) AS locks,
            ARRAY(SELECT delivery_id FROM noted) AS noted,
            ARRAY(SELECT delivery_id FROM unparked) AS unparked,
            COALESCE((SELECT json_agg(t ORDER BY t.item, t.number) FROM tracked t), '[]') AS tracked`,
    [
      fresh.map((r) => r.delivery.id),
      fresh.map((r) => r.delivery.event),
      fresh.map((r) => r.delivery.action ?? null),
      fresh.map((r) => r.facts.repository),
      held.map((r) => r.delivery.id),
      byNumber.map((r) => r[0]),
      byNumber.map((r) => r[1]),
      byNumber.map((r) => r[2]),
      byHead.map((r) => r[0]),
      byHead.map((r) => r[1]),
      byHead.map((r) => r[2]),
      trackedPullRequestsProjection.name,
      commitKeys,
    ],
  );
  const row = rows[0]!;
  const tracked: TrackedRow[][] = items.map(() => []);
  for (const { item, ...found } of row.tracked) tracked[item]!.push(found);
  return { taken: new Set([...row.noted, ...row.unparked]), tracked };
}
