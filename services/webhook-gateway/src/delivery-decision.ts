import {
  changesetObserved,
  checksRollup,
  isNewer,
  reviewDecisionFrom,
  type ChangesetObservedData,
  type CheckReport,
  type ObservedFields,
  type ReviewReport,
  type WebhookDelivery,
  type WebhookFacts,
} from '@campaigns/codehost';
import { deterministicEventId, type EventMetadata, type NewEvent } from '@campaigns/events';
import type { TrackedPullRequest } from './tracked-pull-requests.projection.js';

const SOURCE = 'webhook-gateway';

/** What became of a verified delivery. */
export type RecordOutcome =
  | { outcome: 'recorded'; changesetIds: string[] }
  | { outcome: 'duplicate' }
  | { outcome: 'held' }
  | { outcome: 'ignored'; reason: 'event' | 'unchanged' | 'stale' };

/** A tracked pull request, and whether the projection has applied every event of its stream. */
export type TrackedRow = TrackedPullRequest & { current: boolean };

/** One ChangesetObserved to append, with the metadata it carries. */
export interface Observation {
  changesetId: string;
  event: NewEvent<ChangesetObservedData> & { metadata: EventMetadata };
}

/** What to do with one delivery: its outcome, the events to append, whether to hold it. */
export interface DeliveryDecision {
  outcome: RecordOutcome;
  observations: Observation[];
  /** No changeset tracks its pull request yet: hold it until one does. */
  park?: true;
}

/** The newest pull request state recorded: what an older delivery must not undo. */
export interface PullRequestVersion {
  updatedAt: number;
  headRefOid: string | null;
  replacedHead: string | null;
}

export type CheckEntry = Pick<CheckReport, 'kind' | 'name' | 'suiteId' | 'state' | 'order'>;
export type ReviewEntry = Pick<ReviewReport, 'reviewer' | 'state' | 'order'>;

export const pullRequestKey = (repository: string, number: number) => `${repository}#${number}`;
export const commitKey = (repository: string, sha: string) => `${repository}@${sha}`;

/**
 * What the recorder knows of the pull requests and commits a batch concerns (loaded under their
 * locks), updated delivery by delivery; the keys changed are written back with the batch.
 */
export class RecorderState {
  readonly versions = new Map<string, PullRequestVersion>();
  readonly reviews = new Map<string, Map<string, ReviewEntry>>();
  readonly checks = new Map<string, Map<string, CheckEntry>>();
  readonly changedVersions = new Set<string>();
  readonly changedReviews = new Set<string>();
  readonly changedChecks = new Set<string>();

  /** Takes a pull request state unless a newer one was recorded; false when it is stale. */
  takePullRequest(key: string, updatedAt: number, head: string | undefined, replaced?: string) {
    const known = this.versions.get(key);
    if (known !== undefined) {
      if (updatedAt < known.updatedAt) return false;
      // Same moment (timestamps have whole seconds): the head a newer delivery replaced is older.
      if (updatedAt === known.updatedAt && head !== undefined && head === known.replacedHead)
        return false;
    }
    const before = known?.headRefOid ?? null;
    const moved = head !== undefined && before !== null && head !== before;
    this.versions.set(key, {
      updatedAt: Math.max(updatedAt, known?.updatedAt ?? updatedAt),
      headRefOid: head ?? before,
      replacedHead: replaced ?? (moved ? before : (known?.replacedHead ?? null)),
    });
    this.changedVersions.add(key);
    return true;
  }

  /** Takes a check's report unless a newer one of the same check was; false when it is stale. */
  takeCheck(key: string, report: CheckReport): boolean {
    const checks = this.checks.get(key) ?? new Map<string, CheckEntry>();
    const id = `${report.kind}:${report.name}`;
    const known = checks.get(id);
    if (known !== undefined && !isNewer(report.order, known.order)) return false;
    checks.set(id, report);
    this.checks.set(key, checks);
    this.changedChecks.add(key);
    return true;
  }

  /** Takes a reviewer's review unless a newer one of theirs was; false when it is stale. */
  takeReview(key: string, report: ReviewReport): boolean {
    const reviews = this.reviews.get(key) ?? new Map<string, ReviewEntry>();
    const known = reviews.get(report.reviewer);
    if (known !== undefined && !isNewer(report.order, known.order)) return false;
    reviews.set(report.reviewer, report);
    this.reviews.set(key, reviews);
    this.changedReviews.add(key);
    return true;
  }
}

/** The fields a pull request's own state is made of, ordered by its updated_at. */
const PULL_REQUEST_FIELDS = ['url', 'title', 'state', 'draft', 'headRefOid'] as const;

/**
 * What to record for one delivery, given the tracked pull requests it concerns and what earlier
 * deliveries reported (`state`, updated here). None tracked: hold it. A check's report becomes the
 * rollup of every check of the commit; a review, the decision of every reviewer's latest review;
 * a pull request's state counts only if no newer one was recorded. Nothing newer: stale. Every
 * pull request already showing what it says (the reconciler's own change coming back): unchanged.
 */
export function decideDelivery(
  { delivery, facts }: { delivery: Pick<WebhookDelivery, 'id'>; facts: WebhookFacts },
  tracked: readonly TrackedRow[],
  state: RecorderState,
): DeliveryDecision {
  if (tracked.length === 0) return { outcome: { outcome: 'held' }, observations: [], park: true };
  let checks: ObservedFields['checks'];
  if (facts.check !== undefined) {
    const key = commitKey(facts.repository, checkedCommit(facts));
    if (!state.takeCheck(key, facts.check))
      return { outcome: { outcome: 'ignored', reason: 'stale' }, observations: [] };
    checks = checksRollup([...(state.checks.get(key)?.values() ?? [])]);
  }
  const news: { pr: TrackedRow; fields: ObservedFields }[] = [];
  let echoed = false;
  for (const pr of tracked) {
    const fields: ObservedFields = { ...facts.fields };
    const key = pullRequestKey(pr.repository, pr.number);
    const order = facts.pullRequestOrder;
    if (
      order !== undefined &&
      !state.takePullRequest(
        key,
        Date.parse(order.updatedAt),
        fields.headRefOid,
        order.replacedHead,
      )
    )
      for (const name of PULL_REQUEST_FIELDS) delete fields[name];
    if (facts.review !== undefined && state.takeReview(key, facts.review))
      fields.reviewDecision = reviewDecisionFrom([...state.reviews.get(key)!.values()]);
    if (checks !== undefined) fields.checks = checks;
    if (Object.keys(fields).length === 0) continue;
    if (echoes(facts.trigger, fields, pr)) {
      echoed = true;
      continue;
    }
    news.push({ pr, fields });
  }
  if (news.length === 0) {
    const reason = echoed ? 'unchanged' : 'stale';
    return { outcome: { outcome: 'ignored', reason }, observations: [] };
  }
  const metadata: EventMetadata = {
    correlation_id: delivery.id,
    causation_id: null,
    actor: `github:${facts.sender ?? 'unknown'}`,
    source: SOURCE,
  };
  return {
    outcome: { outcome: 'recorded', changesetIds: news.map(({ pr }) => pr.changesetId) },
    observations: news.map(({ pr, fields }) => ({
      changesetId: pr.changesetId,
      event: {
        event_id: deterministicEventId(SOURCE, delivery.id, pr.changesetId),
        type: 'ChangesetObserved',
        data: changesetObserved(pr, pr.number, fields, {
          source: 'webhook',
          deliveryId: delivery.id,
          trigger: facts.trigger,
          ...(facts.sender === undefined ? {} : { sender: facts.sender }),
        }),
        metadata,
      },
    })),
  };
}

/** The commit a check report is about. */
export function checkedCommit(facts: WebhookFacts): string {
  if ('headSha' in facts.target) return facts.target.headSha;
  return facts.fields.headRefOid ?? '';
}

/**
 * A pull request delivery that says only what the events already say of a pull request: every
 * field it carries is one the projection follows and equals it, and the projection is current.
 * Reviews, checks and statuses are always recorded.
 */
function echoes(trigger: string, fields: ObservedFields, pr: TrackedRow): boolean {
  if (!pr.current || !trigger.startsWith('pull_request.')) return false;
  const shown = Object.entries(fields) as [keyof ObservedFields, unknown][];
  return shown.every(
    ([name, value]) =>
      (PULL_REQUEST_FIELDS as readonly string[]).includes(name) &&
      value !== undefined &&
      pr[name as keyof TrackedRow] === value,
  );
}
