// The recorder's memory of what deliveries reported (recorder-state.entities.ts): locked, read
// and written per batch, one set-based statement each. Raw SQL over unnest(...) arrays, which the
// QueryBuilder cannot express.
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
 * Takes the transaction's advisory locks on the pull requests and commits a batch touches, in
 * one order (by lock key), so two gateways recording about the same pull request take turns
 * and neither reads what the other is about to change.
 */
export async function lockKeys(client: PoolClient, keys: Iterable<string>): Promise<void> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return;
  await client.query(
    `SELECT count(pg_advisory_xact_lock(k)) FROM (
       SELECT DISTINCT hashtextextended('webhook-gateway:' || x, 0) AS k
         FROM unnest($1::text[]) AS x ORDER BY k) AS ordered`,
    [unique],
  );
}

/** What was recorded of these pull requests (versions, and reviews when asked) and commits. */
export async function loadState(
  client: PoolClient,
  pullRequests: readonly { repository: string; number: number }[],
  commits: readonly { repository: string; sha: string }[],
  withReviews: boolean,
): Promise<RecorderState> {
  const state = new RecorderState();
  const prParams = [pullRequests.map((p) => p.repository), pullRequests.map((p) => p.number)];
  if (pullRequests.length > 0) {
    const versions = await client.query<{
      repository: string;
      number: number;
      ms: number;
      head_ref_oid: string | null;
      replaced_head: string | null;
    }>(
      `SELECT v.repository, v.number, (extract(epoch FROM v.updated_at) * 1000)::float8 AS ms,
              v.head_ref_oid, v.replaced_head
         FROM pull_request_versions v
         JOIN unnest($1::text[], $2::int[]) AS w(repository, number)
           ON v.repository = w.repository AND v.number = w.number`,
      prParams,
    );
    for (const v of versions.rows)
      state.versions.set(pullRequestKey(v.repository, v.number), {
        updatedAt: v.ms,
        headRefOid: v.head_ref_oid,
        replacedHead: v.replaced_head,
      });
  }
  if (withReviews && pullRequests.length > 0) {
    const reviews = await client.query<ReviewEntry & { repository: string; number: number }>(
      `SELECT r.repository, r.number, r.reviewer, r.state, r.report_order AS "order"
         FROM pull_request_reviews r
         JOIN unnest($1::text[], $2::int[]) AS w(repository, number)
           ON r.repository = w.repository AND r.number = w.number`,
      prParams,
    );
    for (const { repository, number, ...review } of reviews.rows) {
      const key = pullRequestKey(repository, number);
      state.reviews.set(key, (state.reviews.get(key) ?? new Map()).set(review.reviewer, review));
    }
  }
  if (commits.length > 0) {
    const checks = await client.query<{
      repository: string;
      head_sha: string;
      kind: CheckEntry['kind'];
      name: string;
      suite_id: string | null;
      state: CheckEntry['state'];
      report_order: number[];
    }>(
      `SELECT c.repository, c.head_sha, c.kind, c.name, c.suite_id, c.state, c.report_order
         FROM commit_checks c
         JOIN unnest($1::text[], $2::text[]) AS w(repository, sha)
           ON c.repository = w.repository AND c.head_sha = w.sha`,
      [commits.map((c) => c.repository), commits.map((c) => c.sha)],
    );
    for (const c of checks.rows) {
      const key = commitKey(c.repository, c.head_sha);
      const entry: CheckEntry = {
        kind: c.kind,
        name: c.name,
        state: c.state,
        order: c.report_order,
        ...(c.suite_id === null ? {} : { suiteId: Number(c.suite_id) }),
      };
      state.checks.set(key, (state.checks.get(key) ?? new Map()).set(`${c.kind}:${c.name}`, entry));
    }
  }
  return state;
}

/** Writes back what the batch changed in `state`. */
export async function saveState(client: PoolClient, state: RecorderState): Promise<void> {
  const split = (key: string, at: string) => {
    const i = key.lastIndexOf(at);
    return [key.slice(0, i), key.slice(i + 1)] as const;
  };
  const versions = [...state.changedVersions].map((key) => {
    const [repository, number] = split(key, '#');
    return { repository, number: Number(number), ...state.versions.get(key)! };
  });
  if (versions.length > 0)
    await client.query(
      `INSERT INTO pull_request_versions AS v (repository, number, updated_at, head_ref_oid, replaced_head)
       SELECT w.repository, w.number, to_timestamp(w.ms / 1000.0), w.head, w.replaced
         FROM unnest($1::text[], $2::int[], $3::float8[], $4::text[], $5::text[])
              AS w(repository, number, ms, head, replaced)
       ON CONFLICT (repository, number) DO UPDATE SET
         updated_at = EXCLUDED.updated_at, head_ref_oid = EXCLUDED.head_ref_oid,
         replaced_head = EXCLUDED.replaced_head`,
      [
        versions.map((v) => v.repository),
        versions.map((v) => v.number),
        versions.map((v) => v.updatedAt),
        versions.map((v) => v.headRefOid),
        versions.map((v) => v.replacedHead),
      ],
    );
  const reviews = [...state.changedReviews].flatMap((key) => {
    const [repository, number] = split(key, '#');
    return [...state.reviews.get(key)!.values()].map((r) => ({
      repository,
      number: Number(number),
      ...r,
    }));
  });
  if (reviews.length > 0)
    await client.query(
      `INSERT INTO pull_request_reviews AS r (repository, number, reviewer, state, report_order)
       SELECT w.repository, w.number, w.reviewer, w.state, w.report_order::float8[]
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[])
              AS w(repository, number, reviewer, state, report_order)
       ON CONFLICT (repository, number, reviewer) DO UPDATE SET
         state = EXCLUDED.state, report_order = EXCLUDED.report_order`,
      [
        reviews.map((r) => r.repository),
        reviews.map((r) => r.number),
        reviews.map((r) => r.reviewer),
        reviews.map((r) => r.state),
        reviews.map((r) => `{${r.order.join(',')}}`),
      ],
    );
  const checks = [...state.changedChecks].flatMap((key) => {
    const [repository, sha] = split(key, '@');
    return [...state.checks.get(key)!.values()].map((c) => ({ repository, sha, ...c }));
  });
  if (checks.length > 0)
    await client.query(
      `INSERT INTO commit_checks AS c (repository, head_sha, kind, name, suite_id, state, report_order)
       SELECT w.repository, w.sha, w.kind, w.name, w.suite_id, w.state, w.report_order::float8[]
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[])
              AS w(repository, sha, kind, name, suite_id, state, report_order)
       ON CONFLICT (repository, head_sha, kind, name) DO UPDATE SET
         suite_id = EXCLUDED.suite_id, state = EXCLUDED.state, report_order = EXCLUDED.report_order`,
      [
        checks.map((c) => c.repository),
        checks.map((c) => c.sha),
        checks.map((c) => c.kind),
        checks.map((c) => c.name),
        checks.map((c) => c.suiteId ?? null),
        checks.map((c) => c.state),
        checks.map((c) => `{${c.order.join(',')}}`),
      ],
    );
}

/** A delivery held until a changeset tracks its pull request: what is kept of it. */
export interface ParkedItem {
  delivery: Pick<WebhookDelivery, 'id' | 'event' | 'action'>;
  facts: WebhookFacts;
}

/** Holds deliveries about pull requests no changeset tracks yet. */
export async function park(client: PoolClient, items: readonly ParkedItem[]): Promise<void> {
  if (items.length === 0) return;
  const target = (f: WebhookFacts) =>
    'numbers' in f.target
      ? { number: f.target.numbers[0] ?? null, head: null }
      : { number: null, head: f.target.headSha };
  await client.query(
    `INSERT INTO parked_deliveries (delivery_id, repository, number, head_sha, item, expires_at)
     SELECT w.id, w.repository, w.number, w.head, w.item, now() + make_interval(secs => $6::float8 / 1000)
       FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::jsonb[])
            AS w(id, repository, number, head, item)
     ON CONFLICT (delivery_id) DO NOTHING`,
    [
      items.map((i) => i.delivery.id),
      items.map((i) => i.facts.repository),
      items.map((i) => target(i.facts).number),
      items.map((i) => target(i.facts).head),
      items.map((i) => JSON.stringify(i)),
      PARK_FOR_MS,
    ],
  );
}

/** Takes held deliveries out; returns the ids this transaction took (another may have). */
export async function unpark(client: PoolClient, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await client.query<{ delivery_id: string }>(
    'DELETE FROM parked_deliveries WHERE delivery_id = ANY($1::text[]) RETURNING delivery_id',
    [ids],
  );
  return new Set(rows.map((r) => r.delivery_id));
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
