// Between the planner and the code host: a round whose plan publishes asks the ledger for a
// slot first. Let through, it goes on; not yet, it records ChangesetScheduled and waits.
import { parseRate } from '@campaigns/campaign-spec';
import type { CampaignsConfig } from '@campaigns/codehost';
import type { DataSource } from 'typeorm';
import type { ContentPacer } from '../bulk/content-pacer.js';
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
  /**
   * A publication, or an auto-merge (a content-creating write too, paced like a bulk one: by
   * the host's windows and limits, not the campaign's publication rate).
   */
  async admit(r: Round, kind: 'publish' | 'merge' = 'publish'): Promise<Admission | null> {
    const rules = this.rules(r, kind);
    if (rules === null) return null;
    const apart = kind === 'merge' ? 'merge ' : '';
    return this.ledger.admit({
      hostId: r.hostConfig!.id,
      campaign: `${apart}${r.row.campaign}`,
      changesetId: `${apart}${r.changesetId}`,
      now: () => this.clock.now(),
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

  private rules(r: Round, kind: 'publish' | 'merge'): SlotRules | null {
    if (r.hostConfig === null) return null;
    const written = kind === 'merge' ? undefined : r.desired.spec?.publicationRate;
    const campaignRate = written === undefined ? null : parseRate(written);
    const rules = { ...r.hostConfig.rollout, campaignRate, marginMs: MARGIN_MS };
    return paces(rules) ? rules : null;
  }
}

/**
 * Paces a bulk operation's writes (comments, merges, closes) like publications: by the code
 * host's rollout windows and content-creation limits, in the same ledger, so publications and
 * bulk writes share one budget. The campaign's publication rate is for publications only.
 */
export class LedgerContentPacer implements ContentPacer {
  private readonly ledger: PublicationLedger;

  constructor(
    database: DataSource,
    private readonly config: CampaignsConfig,
    private readonly clock: RolloutClock,
  ) {
    this.ledger = new PublicationLedger(database);
  }

  async admit(input: { hostId: string; campaign: string; changesetId: string }) {
    const host = this.config.codeHosts.find((h) => h.id === input.hostId);
    const rules = host && { ...host.rollout, campaignRate: null, marginMs: MARGIN_MS };
    if (rules === undefined || !paces(rules)) return { admitted: true as const };
    const admission = await this.ledger.admit({
      hostId: input.hostId,
      // Apart from the campaign's publications and their rate, and from its reservation.
      campaign: `bulk ${input.campaign}`,
      changesetId: `bulk ${input.changesetId}`,
      now: () => this.clock.now(),
      rules,
    });
    if (admission.admitted)
      return {
        admitted: true as const,
        done: () => this.ledger.done(admission.entryId, this.clock.now()),
      };
    const waitMs =
      admission.at === null
        ? this.clock.realMsUntil(this.clock.now() + RECHECK_MS)
        : this.clock.realMsUntil(admission.at);
    return { admitted: false as const, at: new Date(Date.now() + waitMs) };
  }
}
