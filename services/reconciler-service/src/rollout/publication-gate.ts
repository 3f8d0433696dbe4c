// Between the planner and the code host: a round whose plan publishes asks the ledger for a
// slot first. Let through, it goes on; not yet, it records ChangesetScheduled and waits.
import { parseRate } from '@campaigns/campaign-spec';
import type { DataSource } from 'typeorm';
import type { Round } from '../executor/round.js';
import { PublicationLedger, type Admission } from './publication-ledger.js';
import { paces, type SlotRules } from './publication-slot.js';
import type { RolloutClock } from './rollout-clock.js';

/**
 * How much longer than its window a publication is counted: the host counts from when the
 * request arrived, the ledger from when the round finished (later), so this only absorbs clock
 * rounding between the two.
 */
const MARGIN_MS = 1000;
/** With no slot expected within a week, look again in an hour. */
const RECHECK_MS = 3_600_000;

export class PublicationGate {
  private readonly ledger: PublicationLedger;

  constructor(
    database: DataSource,
    private readonly clock: RolloutClock,
  ) {
    this.ledger = new PublicationLedger(database);
  }

  /** Null when nothing paces this round's publication (no windows, limits or campaign rate). */
  async admit(r: Round): Promise<Admission | null> {
    const rules = this.rules(r);
    if (rules === null) return null;
    return this.ledger.admit({
      hostId: r.hostConfig!.id,
      campaign: r.row.campaign,
      changesetId: r.changesetId,
      now: this.clock.now(),
      rules,
    });
  }

  /** Its round is over: the publication counts from now. */
  done(entryId: string): Promise<void> {
    return this.ledger.done(entryId, this.clock.now());
  }

  /** Gives back a reservation whose changeset no longer publishes. */
  cancel(changesetId: string): Promise<void> {
    return this.ledger.cancel(changesetId);
  }

  /** ChangesetScheduled's data for a publication not let through yet. */
  scheduled(admission: Extract<Admission, { admitted: false }>) {
    return {
      at: admission.at === null ? null : new Date(admission.at).toISOString(),
      inMs:
        admission.at === null
          ? Math.ceil(this.clock.realMsUntil(this.clock.now() + RECHECK_MS))
          : this.clock.realMsUntil(admission.at),
      reason: admission.reason,
    };
  }

  private rules(r: Round): SlotRules | null {
    if (r.hostConfig === null) return null;
    const written = r.desired.spec?.publicationRate;
    const campaignRate = written === undefined ? null : parseRate(written);
    const rules = { ...r.hostConfig.rollout, campaignRate, marginMs: MARGIN_MS };
    return paces(rules) ? rules : null;
  }
}
