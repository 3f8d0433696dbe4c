// The recorder's memory of what deliveries reported (recorder-state.entities.ts): locked by the
// batch's first statement (recorder-tables.ts), then read in one statement and written in one,
// with the held deliveries and the recorded deliveries' changesets. Raw SQL over unnest(...)
// arrays with data-modifying CTEs, which the QueryBuilder cannot express.
import type { WebhookDelivery, WebhookFacts } from '@campaigns/codehost';
import type { Pool, PoolClient } from 'pg';
import {
  commitKey,
  pullRequestKey,
  RecorderState,
  type CheckEntry,
  type ReviewEntry,
} from './delivery-decision.js';

/** How long a delivery about an untracked pull request is held (the reconciler's event lags ~1 s). */
export const PARK_FOR_MS = 5 * 60_000;

/**
 * What was recorded of these pull requests (versions, and reviews when asked) and commits, in one
 * statement. Called after `takeBatch` locked them: this statement's snapshot sees what every
 * batch that held the locks before committed.
 */
export async function loadState(
  client: PoolClient,
  pullRequests: readonly { repository: string; number: number }[],
  commits: readonly { repository: string; sha: string }[],
  withReviews: boolean,
): Promise<RecorderState> {
  const state = new RecorderState();
  if (pullRequests.length === 0 && commits.length === 0) return state;
  const { rows } = await client.query<{
    versions: [string, number, number, string | null, string | null][];
    reviews: [string, number, string, ReviewEntry['state'], number[]][];
    checks: [
      string,
      string,
      CheckEntry['kind'],
      string,
      string | null,
      CheckEntry['state'],
      number[],
    ][];
  }>(
    `WITH prs AS (SELECT * FROM unnest($1::text[], $2::int[]) AS w(repository, number)),
          shas AS (SELECT * FROM unnest($4::text[], $5::text[]) AS w(repository, sha))
     SELECT
       COALESCE((SELECT json_agg(json_build_array(v.repository, v.number,
                   (extract(epoch FROM v.updated_at) * 1000)::float8, v.head_ref_oid, v.replaced_head))
                   FROM pull_request_versions v
                   JOIN prs ON v.repository = prs.repository AND v.number = prs.number), '[]') AS versions,
       CASE WHEN $3::boolean THEN
         COALESCE((SELECT json_agg(json_build_array(r.repository, r.number, r.reviewer, r.state, r.report_order))
                   FROM pull_request_reviews r
                   JOIN prs ON r.repository = prs.repository AND r.number = prs.number), '[]')
       ELSE '[]' END AS reviews,
       COALESCE((SELECT json_agg(json_build_array(c.repository, c.head_sha, c.kind, c.name,
                   c.suite_id::text, c.state, c.report_order))
                   FROM commit_checks c
                   JOIN shas ON c.repository = shas.repository AND c.head_sha = shas.sha), '[]') AS checks`,
    [
      pullRequests.map((p) => p.repository),
      pullRequests.map((p) => p.number),
      withReviews && pullRequests.length > 0,
      commits.map((c) => c.repository),
      commits.map((c) => c.sha),
    ],
  );
  const { versions, reviews, checks } = rows[0]!;
  for (const [repository, number, ms, headRefOid, replacedHead] of versions)
    state.versions.set(pullRequestKey(repository, number), {
      updatedAt: ms,
      headRefOid,
      replacedHead,
    });
  for (const [repository, number, reviewer, reviewState, order] of reviews) {
    const key = pullRequestKey(repository, number);
    state.reviews.set(
      key,
      (state.reviews.get(key) ?? new Map()).set(reviewer, { reviewer, state: reviewState, order }),
    );
  }
  for (const [repository, sha, kind, name, suiteId, checkState, order] of checks) {
    const key = commitKey(repository, sha);
    const entry: CheckEntry = {
      kind,
      name,
      state: checkState,
      order,
      ...(suiteId === null ? {} : { suiteId: Number(suiteId) }),
    };
    state.checks.set(key, (state.checks.get(key) ?? new Map()).set(`${kind}:${name}`, entry));
  }
  return state;
}

/**
 * The batch's writes but its events, in one statement: what it changed in `state`, the
 * deliveries it holds (about pull requests no changeset tracks yet) and the changesets each
 * recorded delivery's observations went to.
 */
export async function saveBatch(
  client: PoolClient,
  state: RecorderState,
  parked: readonly ParkedItem[],
  recorded: readonly { deliveryId: string; changesetIds: readonly string[] }[],
): Promise<void> {
  const split = (key: string, at: string) => {
    const i = key.lastIndexOf(at);
    return [key.slice(0, i), key.slice(i + 1)] as const;
  };
  const versions = [...state.changedVersions].map((key) => {
    const [repository, number] = split(key, '#');
    return { repository, number: Number(number), ...state.versions.get(key)! };
  });
  const reviews = [...state.changedReviews].flatMap((key) => {
    const [repository, number] = split(key, '#');
    return [...state.reviews.get(key)!.values()].map((r) => ({
      repository,
      number: Number(number),
      ...r,
    }));
  });
  const checks = [...state.changedChecks].flatMap((key) => {
    const [repository, sha] = split(key, '@');
    return [...state.checks.get(key)!.values()].map((c) => ({ repository, sha, ...c }));
  });
  if (versions.length + reviews.length + checks.length + parked.length + recorded.length === 0)
    return;
  const target = (f: WebhookFacts) =>
    'numbers' in f.target
      ? { number: f.target.numbers[0] ?? null, head: null }
      : { number: null, head: f.target.headSha };
  await client.query(
    `WITH versions AS (
       INSERT INTO pull_request_versions AS v (repository, number, updated_at, head_ref_oid, replaced_head)
       SELECT w.repository, w.number, to_timestamp(w.ms / 1000.0), w.head, w.replaced
         FROM unnest($1::text[], $2::int[], $3::float8[], $4::text[], $5::text[])
              AS w(repository, number, ms, head, replaced)
       ON CONFLICT (repository, number) DO UPDATE SET
         updated_at = EXCLUDED.updated_at, head_ref_oid = EXCLUDED.head_ref_oid,
         replaced_head = EXCLUDED.replaced_head),
     reviews AS (
       INSERT INTO pull_request_reviews AS r (repository, number, reviewer, state, report_order)
       SELECT w.repository, w.number, w.reviewer, w.state, w.report_order::float8[]
         FROM unnest($6::text[], $7::int[], $8::text[], $9::text[], $10::text[])
              AS w(repository, number, reviewer, state, report_order)
       ON CONFLICT (repository, number, reviewer) DO UPDATE SET
         state = EXCLUDED.state, report_order = EXCLUDED.report_order),
     checks AS (
       INSERT INTO commit_checks AS c (repository, head_sha, kind, name, suite_id, state, report_order)
       SELECT w.repository, w.sha, w.kind, w.name, w.suite_id, w.state, w.report_order::float8[]
         FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::bigint[], $16::text[], $17::text[])
              AS w(repository, sha, kind, name, suite_id, state, report_order)
       ON CONFLICT (repository, head_sha, kind, name) DO UPDATE SET
         suite_id = EXCLUDED.suite_id, state = EXCLUDED.state, report_order = EXCLUDED.report_order),
     parked AS (
       INSERT INTO parked_deliveries (delivery_id, repository, number, head_sha, item, expires_at)
       SELECT w.id, w.repository, w.number, w.head, w.item, now() + make_interval(secs => $23::float8 / 1000)
         FROM unnest($18::text[], $19::text[], $20::int[], $21::text[], $22::jsonb[])
              AS w(id, repository, number, head, item)
       ON CONFLICT (delivery_id) DO NOTHING)
     UPDATE deliveries d SET changeset_ids = string_to_array(w.changesets, ',')
       FROM unnest($24::text[], $25::text[]) AS w(id, changesets)
      WHERE d.delivery_id = w.id`,
    [
      versions.map((v) => v.repository),
      versions.map((v) => v.number),
      versions.map((v) => v.updatedAt),
      versions.map((v) => v.headRefOid),
      versions.map((v) => v.replacedHead),
      reviews.map((r) => r.repository),
      reviews.map((r) => r.number),
      reviews.map((r) => r.reviewer),
      reviews.map((r) => r.state),
      reviews.map((r) => `{${r.order.join(',')}}`),
      checks.map((c) => c.repository),
      checks.map((c) => c.sha),
      checks.map((c) => c.kind),
      checks.map((c) => c.name),
      checks.map((c) => c.suiteId ?? null),
      checks.map((c) => c.state),
      checks.map((c) => `{${c.order.join(',')}}`),
      parked.map((i) => i.delivery.id),
      parked.map((i) => i.facts.repository),
      parked.map((i) => target(i.facts).number),
      parked.map((i) => target(i.facts).head),
      parked.map((i) => JSON.stringify(i)),
      PARK_FOR_MS,
      recorded.map((r) => r.deliveryId),
      recorded.map((r) => r.changesetIds.join(',')),
    ],
  );
}

/** A delivery held until a changeset tracks its pull request: what is kept of it. */
export interface ParkedItem {
  delivery: Pick<WebhookDelivery, 'id' | 'event' | 'action'>;
  facts: WebhookFacts;
}

/** Held deliveries whose pull request (or head commit) a changeset now tracks, oldest first. */
export async function parkedNowTracked(
  client: Pool | PoolClient,
  limit: number,
): Promise<ParkedItem[]> {
  const { rows } = await client.query<{ item: ParkedItem }>(
    `SELECT p.item FROM parked_deliveries p
      WHERE p.expires_at > now() AND EXISTS (
        SELECT 1 FROM tracked_pull_requests t
         WHERE t.repository = p.repository
           AND (t.number = p.number OR t.head_ref_oid = p.head_sha))
      ORDER BY p.parked_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.item);
}

/** Drops held deliveries past their time; returns how many. */
export async function dropExpired(client: Pool | PoolClient): Promise<number> {
  const { rowCount } = await client.query(
    'DELETE FROM parked_deliveries WHERE expires_at <= now()',
  );
  return rowCount ?? 0;
}
