import type { CodeHost, CodeHostConfig } from '@campaigns/codehost';
import { ConcurrencyError, type EventMetadata, type PostgresEventStore } from '@campaigns/events';
import type { ChangesetRow, RecordedSpec } from '../changeset/changeset-row.js';
import { evolveChangeset, type ChangesetEventBody } from '../changeset/evolve-changeset.js';
import type { BranchChangesetSpec } from '../planner/index.js';
import type { ReconcileOutcome } from './reconcile-outcome.js';

/** The round was overtaken (a new spec or another worker appended first): stop, leave it due. */
export class RoundAborted extends Error {}

/** A changeset event's body without the identity every one carries (the round adds it). */
export type RoundEvent = ChangesetEventBody extends infer E
  ? E extends { type: infer T; data: infer D }
    ? { type: T; data: Omit<D, 'changesetId' | 'campaign' | 'repository' | 'headBranch'> }
    : never
  : never;

/** What a round works from: the claimed changeset, its desired spec and its code host. */
export interface RoundStart {
  changesetId: string;
  claimedDueVersion: bigint;
  stream: string;
  row: ChangesetRow;
  desired: RecordedSpec;
  /** The spec reconciled last, the planner's `previousSpec`. */
  previous: RecordedSpec | null;
  spec: BranchChangesetSpec | null;
  /** Null when no configured code host serves the repository (a terminal failure). */
  host: CodeHost | null;
  /** The code host's configuration (its fork settings); null with `host`. */
  hostConfig: CodeHostConfig | null;
}

/**
 * One changeset's reconcile round: its view of the changeset (the projected row, evolved by
 * each event the round records, with the same evolve as the projection), the events it holds
 * for its next append, and how it ended.
 */
export class Round implements RoundStart {
  readonly changesetId: string;
  readonly claimedDueVersion: bigint;
  readonly stream: string;
  row: ChangesetRow;
  readonly desired: RecordedSpec;
  readonly previous: RecordedSpec | null;
  readonly spec: BranchChangesetSpec | null;
  readonly host: CodeHost | null;
  readonly hostConfig: CodeHostConfig | null;
  readonly metadata: EventMetadata;
  /** The stream version the next append expects. */
  expected: bigint;
  /** Operations carried out, for ChangesetReconciled. */
  readonly operations: string[] = [];
  /**
   * The plan asked to read the changeset back (after a push, for its new head and checks). A
   * write's own answer is the host's view otherwise: no read after publish, update, close.
   */
  readBack = false;
  /** Null while the round goes on. */
  outcome: ReconcileOutcome | null = null;
  /**
   * Events held until the round's next append or next code host write, so the last operation
   * and `ChangesetReconciled` are one append (one transaction for the store, the relay and every
   * consumer) instead of two.
   */
  private pending: RoundEvent[] = [];

  constructor(
    start: RoundStart,
    private readonly store: PostgresEventStore,
  ) {
    this.changesetId = start.changesetId;
    this.claimedDueVersion = start.claimedDueVersion;
    this.stream = start.stream;
    this.row = { ...start.row };
    this.desired = start.desired;
    this.previous = start.previous;
    this.spec = start.spec;
    this.host = start.host;
    this.hostConfig = start.hostConfig;
    this.expected = start.row.streamVersion;
    this.metadata = {
      correlation_id: start.desired.correlationId,
      causation_id: start.desired.specEventId,
      actor: start.desired.actor,
      source: 'reconciler-service',
    };
  }

  get ended(): boolean {
    return this.outcome !== null;
  }

  /** Records an event for the next append; the round's view evolves with it at once. */
  hold(event: RoundEvent): void {
    this.pending.push(event);
    this.row = evolveChangeset(this.row, {
      ...event,
      data: { ...this.identity(), ...event.data },
      event_id: '',
      stream_version: this.row.streamVersion,
      recorded_at: new Date(),
      metadata: this.metadata,
    } as Parameters<typeof evolveChangeset>[1]);
  }

  /** Holds the event and appends everything held. */
  async append(event: RoundEvent): Promise<void> {
    this.hold(event);
    await this.flush();
  }

  /**
   * Appends the held events at the round's expected version; observations appended meanwhile
   * (webhooks) are tolerated, anything else means the round was overtaken (RoundAborted).
   */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const events = this.pending.map((e) => ({
      type: e.type,
      data: { ...this.identity(), ...e.data },
    }));
    for (;;) {
      try {
        const result = await this.store.append(this.stream, events, {
          expected: this.expected,
          metadata: this.metadata,
        });
        this.pending = [];
        this.expected = result.nextExpectedVersion;
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        const newer = await this.store.readStream(this.stream, { fromVersion: this.expected + 1n });
        if (newer.length === 0 || newer.some((e) => e.type !== 'ChangesetObserved')) {
          throw new RoundAborted(error.message);
        }
        this.expected = newer.at(-1)!.stream_version;
      }
    }
  }

  private identity() {
    return {
      changesetId: this.changesetId,
      campaign: this.row.campaign,
      repository: this.row.repository,
      headBranch: this.row.headBranch,
    };
  }
}
