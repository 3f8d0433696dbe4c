import type {
  CheckReport,
  ObservedFields,
  ReviewDecision,
  ReviewReport,
  WebhookDelivery,
  WebhookFacts,
} from '../code-host.js';

type Json = Record<string, unknown>;

const PULL_REQUEST_ACTIONS = new Set([
  'opened',
  'edited',
  'closed',
  'reopened',
  'synchronize',
  'ready_for_review',
  'converted_to_draft',
]);

/**
 * The facts of a verified GitHub delivery that can change a changeset's actual state, or null
 * when the event (or action) is one that says nothing about pull requests we record: GitHub's
 * side of `CodeHost.webhookFacts`. Each carries what orders it against other deliveries about the
 * same thing: the pull request's `updated_at`, a check's id and timestamps, a review's id.
 */
export function webhookFacts(delivery: WebhookDelivery): WebhookFacts | null {
  const { payload, repo } = delivery;
  if (repo === undefined) return null;
  const sender = login(payload['sender']);
  const base = { repository: repo, ...(sender === undefined ? {} : { sender }) };
  const action = delivery.action;
  switch (delivery.event) {
    case 'pull_request': {
      if (action === undefined || !PULL_REQUEST_ACTIONS.has(action)) return null;
      const pr = object(payload['pull_request']);
      const number = integer(payload['number']) ?? integer(pr?.['number']);
      if (pr === undefined || number === undefined) return null;
      const replacedHead = action === 'synchronize' ? string(payload['before']) : undefined;
      return {
        ...base,
        trigger: `pull_request.${action}`,
        target: { numbers: [number] },
        fields: pullRequestFields(pr),
        ...pullRequestOrder(pr, replacedHead),
      };
    }
    case 'pull_request_review': {
      const pr = object(payload['pull_request']);
      const number = integer(pr?.['number']);
      if (pr === undefined || number === undefined) return null;
      const review = reviewReport(action, object(payload['review']));
      if (review === undefined) return null;
      return {
        ...base,
        trigger: `pull_request_review.${action}`,
        target: { numbers: [number] },
        fields: pullRequestFields(pr),
        ...pullRequestOrder(pr),
        review,
      };
    }
    case 'check_suite':
    case 'check_run': {
      const check = object(payload[delivery.event]);
      const headSha = string(check?.['head_sha']);
      if (check === undefined || headSha === undefined || action === undefined) return null;
      const report =
        delivery.event === 'check_run'
          ? checkRunReport(action, check)
          : checkSuiteReport(action, check);
      if (report === undefined) return null;
      // Every tracked pull request whose head is the checked commit, listed in the payload or not
      // (a suite started by the push that opened the pull request lists none).
      return {
        ...base,
        trigger: `${delivery.event}.${action}`,
        target: { headSha },
        fields: { headRefOid: headSha },
        check: report,
      };
    }
    case 'status': {
      const sha = string(payload['sha']);
      const state = commitStatusState(string(payload['state']));
      const context = string(payload['context']) ?? 'default';
      if (sha === undefined || state === undefined) return null;
      return {
        ...base,
        trigger: 'status',
        target: { headSha: sha },
        fields: { headRefOid: sha },
        check: {
          kind: 'status',
          name: context,
          state,
          order: [integer(payload['id']) ?? 0, time(payload['updated_at'])],
        },
      };
    }
    default:
      return null;
  }
}

function pullRequestOrder(
  pr: Json,
  replacedHead?: string,
): { pullRequestOrder?: { updatedAt: string; replacedHead?: string } } {
  const updatedAt = string(pr['updated_at']);
  if (updatedAt === undefined || Number.isNaN(Date.parse(updatedAt))) return {};
  return {
    pullRequestOrder: { updatedAt, ...(replacedHead === undefined ? {} : { replacedHead }) },
  };
}

/** How far along a check is: a later stage of the same check is newer. */
const CHECK_STAGE: Record<string, number> = {
  queued: 0,
  requested: 0,
  waiting: 0,
  pending: 0,
  in_progress: 1,
  completed: 2,
};
/** A rerequested check starts over: newer than its completion. */
const RERUN_STAGE = 3;

/** What a check run delivery says of its run; undefined for actions that say nothing of its state. */
function checkRunReport(action: string, run: Json): CheckReport | undefined {
  if (action === 'requested_action') return undefined;
  const suite = object(run['check_suite']);
  const app =
    string(object(run['app'])?.['slug']) ?? string(object(suite?.['app'])?.['slug']) ?? '';
  const name = string(run['name']);
  const id = integer(run['id']);
  if (name === undefined || id === undefined) return undefined;
  const status = string(run['status']) ?? 'queued';
  const rerun = action === 'rerequested';
  const suiteId = integer(suite?.['id']);
  return {
    kind: 'check_run',
    name: `${app}/${name}`,
    ...(suiteId === undefined ? {} : { suiteId }),
    state: checkState(rerun, status, string(run['conclusion'])),
    order: [
      id,
      rerun ? RERUN_STAGE : (CHECK_STAGE[status] ?? 0),
      Math.max(time(run['completed_at']), time(run['started_at'])),
    ],
  };
}

/** What a check suite delivery says of the suite. */
function checkSuiteReport(action: string, suite: Json): CheckReport | undefined {
  const id = integer(suite['id']);
  if (id === undefined) return undefined;
  const status = string(suite['status']) ?? 'queued';
  const rerun = action === 'rerequested';
  return {
    kind: 'check_suite',
    name: string(object(suite['app'])?.['slug']) ?? String(id),
    suiteId: id,
    state: checkState(rerun, status, string(suite['conclusion'])),
    // A rerun moves updated_at on; among reports of one moment, the later stage is newer.
    order: [id, time(suite['updated_at']), rerun ? RERUN_STAGE : (CHECK_STAGE[status] ?? 0)],
  };
}

/**
 * A check's state in GitHub's rollup: pending until completed (a rerequested one is pending
 * again, whatever conclusion its payload still shows), then success or failure by conclusion.
 */
function checkState(
  rerun: boolean,
  status: string,
  conclusion: string | undefined,
): CheckReport['state'] {
  if (rerun || status !== 'completed') return 'PENDING';
  return checkConclusionState(conclusion);
}

/** A review delivery as one reviewer's decisive review; undefined for a comment-only one. */
function reviewReport(
  action: string | undefined,
  review: Json | undefined,
): ReviewReport | undefined {
  const reviewer = login(review?.['user']);
  const id = integer(review?.['id']);
  if (reviewer === undefined || id === undefined) return undefined;
  const decision = reviewDecisionOf(action, review);
  if (decision === undefined) return undefined;
  const state = action === 'dismissed' ? 'DISMISSED' : decision;
  if (state === 'REVIEW_REQUIRED' || state === null) return undefined;
  // A dismissal comes after the submission of the same review.
  return { reviewer, state, order: [id, action === 'dismissed' ? 1 : 0] };
}

function pullRequestFields(pr: Json): ObservedFields {
  const merged = pr['merged'] === true || typeof pr['merged_at'] === 'string';
  const state = string(pr['state']);
  const fields: ObservedFields = {};
  const url = string(pr['html_url']);
  const title = string(pr['title']);
  const headRefOid = string(object(pr['head'])?.['sha']);
  if (url !== undefined) fields.url = url;
  if (title !== undefined) fields.title = title;
  if (merged) fields.state = 'merged';
  else if (state === 'open' || state === 'closed') fields.state = state;
  if (typeof pr['draft'] === 'boolean') fields.draft = pr['draft'];
  if (headRefOid !== undefined) fields.headRefOid = headRefOid;
  return fields;
}

/**
 * What a review event does to the review decision; undefined when it does not decide anything
 * (a comment-only review). A dismissed review leaves the pull request needing a review.
 */
export function reviewDecisionOf(
  action: string | undefined,
  review: Json | undefined,
): ReviewDecision | undefined {
  if (action === 'dismissed') return 'REVIEW_REQUIRED';
  if (action !== 'submitted') return undefined;
  switch (string(review?.['state'])?.toLowerCase()) {
    case 'approved':
      return 'APPROVED';
    case 'changes_requested':
      return 'CHANGES_REQUESTED';
    default:
      return undefined;
  }
}

/**
 * A completed check suite's or run's conclusion in GitHub's rollup: success, neutral and skipped
 * pass; every other conclusion (failure, timed_out, cancelled, action_required, stale, …) fails.
 */
export function checkConclusionState(conclusion: string | undefined): 'SUCCESS' | 'FAILURE' {
  switch (conclusion) {
    case 'success':
    case 'neutral':
    case 'skipped':
      return 'SUCCESS';
    default:
      return 'FAILURE';
  }
}

/** A commit status's state as a checks state; undefined for one that is not a status state. */
export function commitStatusState(state: string | undefined): CheckReport['state'] | undefined {
  switch (state) {
    case 'success':
      return 'SUCCESS';
    case 'failure':
      return 'FAILURE';
    case 'error':
      return 'ERROR';
    case 'pending':
      return 'PENDING';
    default:
      return undefined;
  }
}

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function string(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function integer(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function login(value: unknown): string | undefined {
  return string(object(value)?.['login']);
}

/** Milliseconds since the epoch of an ISO timestamp; 0 when absent or unreadable. */
function time(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}
