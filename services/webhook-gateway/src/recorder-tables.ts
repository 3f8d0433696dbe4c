// The recorder's reads and writes of a batch, each one statement for the whole batch. Raw SQL:
// set-based statements over unnest(...) arrays, which the QueryBuilder cannot express.
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

/**
 * For each item, the tracked pull requests it concerns (by number, or every one whose head is the
 * named commit), each with whether the projection has applied every event of its changeset's
 * stream (only then is what it knows the latest word): the projection's checkpoint and the event
 * store's stream version are joined in.
 */
export async function loadTracked(
  client: PoolClient,
  items: readonly Item[],
): Promise<TrackedRow[][]> {
  const byNumber: [number, string, number][] = [];
  const byHead: [number, string, string][] = [];
  items.forEach(({ facts }, i) => {
    if ('numbers' in facts.target)
      for (const n of facts.target.numbers) byNumber.push([i, facts.repository, n]);
    else byHead.push([i, facts.repository, facts.target.headSha]);
  });
  const { rows } = await client.query<TrackedRow & { item: number }>(
    `WITH found AS (
       SELECT w.item, t.* FROM unnest($1::int[], $2::text[], $3::int[]) AS w(item, repository, number)
         JOIN ${TRACKED_PULL_REQUESTS_TABLE} t ON t.repository = w.repository AND t.number = w.number
       UNION ALL
       SELECT w.item, t.* FROM unnest($4::int[], $5::text[], $6::text[]) AS w(item, repository, head)
         JOIN ${TRACKED_PULL_REQUESTS_TABLE} t ON t.repository = w.repository AND t.head_ref_oid = w.head)
     SELECT f.item, f.repository, f.number, f.changeset_id AS "changesetId", f.campaign,
            f.head_branch AS "headBranch", f.head_ref_oid AS "headRefOid", f.url, f.title,
            f.state, f.draft, COALESCE(c.stream_version = s.version, false) AS current
       FROM found f
       LEFT JOIN projection_checkpoints c
         ON c.projection = $7 AND c.stream_id = 'changeset-' || f.changeset_id
       LEFT JOIN eventstore.streams s ON s.stream_id = 'changeset-' || f.changeset_id
      ORDER BY f.item, f.number`,
    [
      byNumber.map((r) => r[0]),
      byNumber.map((r) => r[1]),
      byNumber.map((r) => r[2]),
      byHead.map((r) => r[0]),
      byHead.map((r) => r[1]),
      byHead.map((r) => r[2]),
      trackedPullRequestsProjection.name,
    ],
  );
  const tracked: TrackedRow[][] = items.map(() => []);
  for (const { item, ...row } of rows) tracked[item]!.push(row);
  return tracked;
}

/**
 * Notes delivery ids (first, so that a redelivery is found before anything else is done);
 * returns the ids this statement inserted (an id noted before, by an earlier delivery or
 * another gateway, is not). Their changesets are set once known (`setChangesetIds`).
 */
export async function noteDeliveries(
  client: PoolClient,
  rows: readonly Pick<Item, 'delivery' | 'facts'>[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await client.query<{ delivery_id: string }>(
    `INSERT INTO deliveries (delivery_id, event, action, repository, changeset_ids)
     SELECT d.id, d.event, d.action, d.repository, '{}'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
            AS d(id, event, action, repository)
      ORDER BY d.id
     ON CONFLICT (delivery_id) DO NOTHING
     RETURNING delivery_id`,
    [
      rows.map((r) => r.delivery.id),
      rows.map((r) => r.delivery.event),
      rows.map((r) => r.delivery.action ?? null),
      rows.map((r) => r.facts.repository),
    ],
  );
  return new Set(inserted.rows.map((r) => r.delivery_id));
}

/** Sets the changesets each recorded delivery's observations went to. */
export async function setChangesetIds(
  client: PoolClient,
  rows: readonly { deliveryId: string; changesetIds: readonly string[] }[],
): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `UPDATE deliveries d SET changeset_ids = string_to_array(w.changesets, ',')
       FROM unnest($1::text[], $2::text[]) AS w(id, changesets)
      WHERE d.delivery_id = w.id`,
    [rows.map((r) => r.deliveryId), rows.map((r) => r.changesetIds.join(','))],
  );
}
