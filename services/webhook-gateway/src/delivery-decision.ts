import {
  changesetObserved,
  type ChangesetObservedData,
  type ObservedFields,
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
  | { outcome: 'ignored'; reason: 'event' | 'untracked' | 'unchanged' };

/** A tracked pull request, and whether the projection has applied every event of its stream. */
export type TrackedRow = TrackedPullRequest & { current: boolean };

/** One ChangesetObserved to append, with the metadata it carries. */
export interface Observation {
  changesetId: string;
  event: NewEvent<ChangesetObservedData> & { metadata: EventMetadata };
}

/** What to do with one delivery: the outcome, and (when noted) its id's row and the events. */
export interface DeliveryDecision {
  outcome: RecordOutcome;
  /** Note the delivery id (a redelivery is then a duplicate), with the changesets it concerned. */
  note?: { changesetIds: string[] };
  observations: Observation[];
}

/**
 * What to record for one delivery, given the tracked pull requests it concerns: nothing when
 * none is tracked; only its id when every one of them already shows what it says (an echo of the
 * reconciler's own change); else a ChangesetObserved for each. Pure.
 */
export function decideDelivery(
  { delivery, facts }: { delivery: WebhookDelivery; facts: WebhookFacts },
  tracked: readonly TrackedRow[],
): DeliveryDecision {
  if (tracked.length === 0)
    return { outcome: { outcome: 'ignored', reason: 'untracked' }, observations: [] };
  if (tracked.every((pr) => echoes(facts, pr))) {
    // Nothing the events do not already say (typically the reconciler's own edit coming back):
    // the delivery is noted, so a redelivery still answers as a duplicate.
    return {
      outcome: { outcome: 'ignored', reason: 'unchanged' },
      note: { changesetIds: [] },
      observations: [],
    };
  }
  const metadata: EventMetadata = {
    correlation_id: delivery.id,
    causation_id: null,
    actor: `github:${facts.sender ?? 'unknown'}`,
    source: SOURCE,
  };
  const changesetIds = tracked.map((pr) => pr.changesetId);
  return {
    outcome: { outcome: 'recorded', changesetIds },
    note: { changesetIds },
    observations: tracked.map((pr) => ({
      changesetId: pr.changesetId,
      event: {
        event_id: deterministicEventId(SOURCE, delivery.id, pr.changesetId),
        type: 'ChangesetObserved',
        data: observation(delivery.id, facts, pr),
        metadata,
      },
    })),
  };
}

/** The fields of a pull request delivery that the recorder compares with the events. */
const SHOWN_FIELDS = new Set<keyof ObservedFields>([
  'url',
  'title',
  'state',
  'draft',
  'headRefOid',
]);

/**
 * A pull request delivery that says only what the events already say of a pull request: every
 * field it carries is one the projection follows and equals it, and the projection is current.
 * Reviews, checks and statuses are always recorded.
 */
function echoes(facts: WebhookFacts, pr: TrackedRow): boolean {
  if (!pr.current || !facts.trigger.startsWith('pull_request.')) return false;
  const fields = Object.entries(facts.fields) as [keyof ObservedFields, unknown][];
  return (
    fields.length > 0 &&
    fields.every(
      ([name, value]) =>
        SHOWN_FIELDS.has(name) && value !== undefined && pr[name as keyof TrackedRow] === value,
    )
  );
}

/** The ChangesetObserved payload for one tracked pull request. */
export function observation(
  deliveryId: string,
  facts: WebhookFacts,
  pr: TrackedPullRequest,
): ChangesetObservedData {
  return changesetObserved(pr, pr.number, facts.fields, {
    source: 'webhook',
    deliveryId,
    trigger: facts.trigger,
    ...(facts.sender === undefined ? {} : { sender: facts.sender }),
  });
}
