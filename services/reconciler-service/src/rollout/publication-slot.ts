// When a changeset may be published: pure decisions over the publications already made or
// planned on its code host and in its campaign. The ledger (publication-ledger.ts) supplies
// the points and keeps the decision; nothing here reads a clock or a database.
import { rateSpacingMs, type Rate } from '@campaigns/campaign-spec';
import { nextOpening, rateAt, type RolloutPolicy } from '@campaigns/codehost';

/** A publication on the ledger, at a time of the rollout clock (ms). */
export interface LedgerPoint {
  /** When it was made (or, in flight, is taken to be made: now), or is planned for. */
  at: number;
  /** Planned (a reservation not yet used) rather than made. */
  pending: boolean;
}

export interface SlotRules extends RolloutPolicy {
  /** The campaign's `x-campaigns.publicationRate`; null when it sets none. */
  campaignRate: Rate | null;
  /**
   * How much longer than its window a publication is counted: the code host counts it from when
   * the request arrived, which the ledger only bounds (between admission and answer).
   */
  marginMs: number;
}

export type SlotReason = 'rollout window' | 'content limit' | 'publication rate';

export interface Slot {
  at: number;
  /** What moved it later than asked; null when it is the time asked for. */
  reason: SlotReason | null;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Each pass moves the slot later; this bounds the work for any ledger. */
const MAX_PASSES = 10_000;

/** Whether `rules` pace publications at all (otherwise the ledger is not consulted). */
export function paces(rules: Omit<SlotRules, 'marginMs'>): boolean {
  return (
    rules.windows !== null ||
    rules.contentLimits !== null ||
    (rules.campaignRate !== null && !rules.campaignRate.unlimited)
  );
}

/**
 * The earliest time at or after `now` for a new publication, behind every one already planned
 * (first come, first published): in a window with a rate above 0, at least the window's
 * spacing after the host's last publication and the campaign rate's after the campaign's, and
 * under the code host's per-minute and per-hour limits counting every publication made or
 * planned. Null when no window opens within a week or the campaign's rate is 0.
 */
export function plannedSlot(
  now: number,
  host: readonly LedgerPoint[],
  campaign: readonly LedgerPoint[],
  rules: SlotRules,
): Slot | null {
  const last = (points: readonly LedgerPoint[]) =>
    points.reduce((max, p) => Math.max(max, p.at), -Infinity);
  const lastHost = last(host);
  const lastCampaign = last(campaign);
  const lastPending = last(host.filter((p) => p.pending));
  const sorted = host.map((p) => p.at).sort((a, b) => a - b);
  let t = now;
  let reason: SlotReason | null = null;
  const moveTo = (at: number, why: SlotReason) => {
    t = at;
    reason = why;
  };
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const opening = nextOpening(rules.windows, t);
    if (opening === null) return null;
    if (opening > t) {
      moveTo(opening, 'rollout window');
      continue;
    }
    const windowSpacing = rateSpacingMs(rateAt(rules.windows, t));
    if (windowSpacing > 0 && t < lastHost + windowSpacing) {
      moveTo(lastHost + windowSpacing, 'rollout window');
      continue;
    }
    if (rules.campaignRate !== null) {
      const spacing = rateSpacingMs(rules.campaignRate);
      if (spacing === Infinity) return null;
      if (t < lastCampaign + spacing) {
        moveTo(lastCampaign + spacing, 'publication rate');
        continue;
      }
    }
    if (rules.contentLimits !== null) {
      if (t < lastPending) {
        moveTo(lastPending, 'content limit');
        continue;
      }
      const freed = freedAt(sorted, t, rules);
      if (freed !== null) {
        moveTo(freed, 'content limit');
        continue;
      }
    }
    return { at: t, reason };
  }
  return null;
}

/**
 * Whether a publication may go out at `now`, counting only those made or in flight (not the
 * planned ones): a window with a rate above 0 is in force and the code host's limits have room.
 * The spacing of rates is the planner's; this is the check that keeps the host's limits.
 */
export function mayPublishNow(
  now: number,
  made: readonly LedgerPoint[],
  rules: SlotRules,
): boolean {
  if (nextOpening(rules.windows, now) !== now) return false;
  if (rules.contentLimits === null) return true;
  const sorted = made.map((p) => p.at).sort((a, b) => a - b);
  return freedAt(sorted, now, rules) === null;
}

/**
 * Null when one more publication at `t` stays within the per-minute and per-hour limits, each
 * publication counted for its window plus the margin; otherwise the time the oldest blocking
 * one stops counting. `sorted` is ascending.
 */
function freedAt(sorted: readonly number[], t: number, rules: SlotRules): number | null {
  const limits = rules.contentLimits!;
  let latest: number | null = null;
  for (const [limit, windowMs] of [
    [limits.perMinute, MINUTE_MS],
    [limits.perHour, HOUR_MS],
  ] as const) {
    const span = windowMs + rules.marginMs;
    // Everything after the window's start counts, a publication made after `t` too (one the
    // caller's clock had not reached yet).
    const from = firstAfter(sorted, t - span);
    const counted = sorted.length - from;
    if (counted >= limit) {
      // The (counted - limit + 1)-th oldest must stop counting for one more to fit.
      const freed = sorted[from + counted - limit]! + span + 1;
      latest = latest === null ? freed : Math.max(latest, freed);
    }
  }
  return latest;
}

/** The first index whose value is after `value` (sorted ascending). */
function firstAfter(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
