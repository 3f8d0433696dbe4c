// The publication ledger: every publication the reconcilers made or planned, per code host and
// campaign, in table `publication_ledger` (operational state, like the reconcile queue: not
// derived from events, not replayed). Each decision runs in one transaction holding advisory
// locks on the host and the campaign, so workers in any number of processes decide in turn.
import type { DataSource, EntityManager } from 'typeorm';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import {
  mayPublishNow,
  plannedSlot,
  type LedgerPoint,
  type SlotReason,
  type SlotRules,
} from './publication-slot.js';

@Entity({ name: 'publication_ledger' })
@Index('publication_ledger_host_idx', ['hostId', 'slotAt'])
@Index('publication_ledger_campaign_idx', ['campaign', 'slotAt'])
export class PublicationLedgerEntry {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' })
  id!: string;

  @Column({ name: 'host_id', type: 'text' })
  hostId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'changeset_id', type: 'text' })
  changesetId!: string;

  /** Planned time (rollout clock); for a publication made, when it was let through. */
  @Column({ name: 'slot_at', type: 'timestamptz' })
  slotAt!: Date;

  /** When it was let through (null: still a reservation). */
  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  /** What a reservation waits for. */
  @Column({ name: 'reason', type: 'text' })
  reason!: SlotReason;

  /** When its round finished, after the code host answered (null: in flight). */
  @Column({ name: 'done_at', type: 'timestamptz', nullable: true })
  doneAt!: Date | null;
}

export const PUBLICATION_LEDGER_SQL = (schema: string) => `
CREATE TABLE ${schema}.publication_ledger (
  id bigserial PRIMARY KEY,
  host_id text NOT NULL,
  campaign text NOT NULL,
  changeset_id text NOT NULL,
  slot_at timestamptz NOT NULL,
  sent_at timestamptz,
  reason text NOT NULL,
  done_at timestamptz
);
CREATE INDEX publication_ledger_host_idx ON ${schema}.publication_ledger (host_id, slot_at);
CREATE INDEX publication_ledger_campaign_idx ON ${schema}.publication_ledger (campaign, slot_at);
CREATE UNIQUE INDEX publication_ledger_reservation_idx
  ON ${schema}.publication_ledger (changeset_id) WHERE sent_at IS NULL;`;

/** What the ledger decided for one publication. */
export type Admission =
  | { readonly admitted: true; readonly entryId: string }
  | { readonly admitted: false; readonly at: number | null; readonly reason: SlotReason };

export interface PublicationRequest {
  hostId: string;
  campaign: string;
  changesetId: string;
  /**
   * The rollout clock (ms), read once the host's turn is taken: a time read before waiting for
   * the lock would miss publications made meanwhile.
   */
  now: () => number;
  rules: SlotRules;
}

/** How far back publications still count: an hour (the longest content window) and a day. */
const LOOKBACK_MS = 86_400_000 + 3_600_000;
/** A publication whose round never finished (a crash) counts as made this long after it went. */
const IN_FLIGHT_MS = 600_000;

export class PublicationLedger {
  constructor(private readonly database: DataSource) {}

  /**
   * Lets the publication through now or keeps (or moves) its reservation: a changeset with a
   * reservation that is due goes when the host's limits have room, else it is moved to when they
   * will; one without gets the next slot behind every other reservation.
   */
  admit(request: PublicationRequest): Promise<Admission> {
    return this.database.transaction(async (manager) => {
      await lock(manager, `rollout host ${request.hostId}`);
      await lock(manager, `rollout campaign ${request.campaign}`);
      const now = request.now();
      const rows = await this.recent(manager, request.hostId, request.campaign, now);
      const { rules } = request;
      const point = (row: PublicationLedgerEntry): LedgerPoint =>
        row.sentAt === null
          ? { at: row.slotAt.getTime(), pending: true }
          : {
              // In flight: counted as made now (the host may count it any moment).
              at: row.doneAt?.getTime() ?? Math.min(row.sentAt.getTime() + IN_FLIGHT_MS, now),
              pending: false,
            };
      const mine = rows.find((r) => r.changesetId === request.changesetId && r.sentAt === null);
      const others = rows.filter((r) => r !== mine);
      const host = others.filter((r) => r.hostId === request.hostId).map(point);
      const campaign = others.filter((r) => r.campaign === request.campaign).map(point);
      const made = host.filter((p) => !p.pending);
      const repo = manager.getRepository(PublicationLedgerEntry);

      if (mine !== undefined && mine.slotAt.getTime() <= now) {
        if (mayPublishNow(now, made, rules)) {
          await repo.update({ id: mine.id }, { sentAt: new Date(now), slotAt: new Date(now) });
          return { admitted: true, entryId: mine.id };
        }
        // Publications before it ran late: it goes when the host's limits have room again.
        const moved = plannedSlot(now, made, [], rules);
        const reason = moved?.reason ?? 'rollout window';
        if (moved !== null)
          await repo.update({ id: mine.id }, { slotAt: new Date(moved.at), reason });
        return { admitted: false, at: moved?.at ?? null, reason };
      }
      if (mine !== undefined) {
        return { admitted: false, at: mine.slotAt.getTime(), reason: mine.reason };
      }
      const slot = plannedSlot(now, host, campaign, rules);
      if (slot === null) {
        return {
          admitted: false,
          at: null,
          reason: rules.campaignRate !== null ? 'publication rate' : 'rollout window',
        };
      }
      const goes = slot.at <= now && mayPublishNow(now, made, rules);
      const reason = slot.reason ?? 'content limit';
      const entry = await repo.save(
        repo.create({
          hostId: request.hostId,
          campaign: request.campaign,
          changesetId: request.changesetId,
          slotAt: new Date(goes ? now : Math.max(slot.at, now + 1)),
          sentAt: goes ? new Date(now) : null,
          reason,
          doneAt: null,
        }),
      );
      if (goes) return { admitted: true, entryId: entry.id };
      return { admitted: false, at: entry.slotAt.getTime(), reason };
    });
  }

  /** The publication's round finished (the code host answered, or it failed): it counts from now. */
  async done(entryId: string, now: number): Promise<void> {
    await this.database
      .getRepository(PublicationLedgerEntry)
      .update({ id: entryId }, { doneAt: new Date(now) });
  }

  /** Drops a changeset's reservation (its round no longer publishes). */
  async cancel(changesetId: string): Promise<void> {
    await this.database
      .createQueryBuilder()
      .delete()
      .from(PublicationLedgerEntry)
      .where('changeset_id = :changesetId AND sent_at IS NULL', { changesetId })
      .execute();
  }

  /** The host's and the campaign's publications that still count, and every reservation. */
  private recent(manager: EntityManager, host: string, campaign: string, now: number) {
    return manager
      .getRepository(PublicationLedgerEntry)
      .createQueryBuilder('l')
      .where('(l.host_id = :host OR l.campaign = :campaign)', {
        host,
        campaign,
      })
      .andWhere('(l.sent_at IS NULL OR l.slot_at > :since)', {
        since: new Date(now - LOOKBACK_MS),
      })
      .getMany();
  }
}

async function lock(manager: EntityManager, key: string): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
}
