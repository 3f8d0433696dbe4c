import type {
  ChecksState,
  ObservedFields,
  ReviewDecision,
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
 * side of `CodeHost.webhookFacts`.
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
      return {
        ...base,
        trigger: `pull_request.${action}`,
        target: { numbers: [number] },
        fields: pullRequestFields(pr),
      };
    }
    case 'pull_request_review': {
      const pr = object(payload['pull_request']);
      const number = integer(pr?.['number']);
      if (pr === undefined || number === undefined) return null;
      const reviewDecision = reviewDecisionOf(action, object(payload['review']));
      if (reviewDecision === undefined) return null;
      return {
        ...base,
        trigger: `pull_request_review.${action}`,
        target: { numbers: [number] },
        fields: { ...pullRequestFields(pr), reviewDecision },
      };
    }
    case 'check_suite':
    case 'check_run': {
      const check = object(payload[delivery.event]);
      const headSha = string(check?.['head_sha']);
      if (check === undefined || headSha === undefined || action === undefined) return null;
      // `completed`, or a check run created already completed (`created` with status completed).
      if (action !== 'completed' && check['status'] !== 'completed') return null;
      // Only the pull requests whose head is the checked commit: a check of an older commit
      // says nothing about the pull request as it is now.
      const numbers = arrayOf(check['pull_requests'])
        .filter((pr) => string(object(pr['head'])?.['sha']) === headSha)
        .map((pr) => integer(pr['number']))
        .filter((n): n is number => n !== undefined);
      if (numbers.length === 0) return null;
      return {
        ...base,
        trigger: `${delivery.event}.${action}`,
        target: { numbers },
        fields: { checks: checkConclusionState(string(check['conclusion'])), headRefOid: headSha },
      };
    }
    case 'status': {
      const sha = string(payload['sha']);
      const checks = commitStatusState(string(payload['state']));
      if (sha === undefined || checks === undefined) return null;
      return { ...base, trigger: 'status', target: { headSha: sha }, fields: { checks } };
    }
    default:
      return null;
  }
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

/** A completed check suite's or run's conclusion as a checks state (GitHub's rollup rules). */
export function checkConclusionState(conclusion: string | undefined): ChecksState {
  switch (conclusion) {
    case 'success':
    case 'neutral':
    case 'skipped':
      return 'SUCCESS';
    case 'failure':
    case 'timed_out':
    case 'action_required':
    case 'startup_failure':
      return 'FAILURE';
    case 'stale':
      return 'PENDING';
    default:
      // cancelled, or a conclusion this code does not know.
      return 'ERROR';
  }
}

/** A commit status's state as a checks state; undefined for one that is not a status state. */
export function commitStatusState(state: string | undefined): ChecksState | undefined {
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

function arrayOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(object).filter((v): v is Json => v !== undefined) : [];
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
