import { randomUUID } from 'node:crypto';
import {
  changesetObserved,
  CodeHostError,
  CodeHostResolver,
  observationDiffers,
  observedFields,
  type CampaignsConfig,
  type ChangesetObservation,
  type CodeHosts,
} from '@campaigns/codehost';
import {
  LoopComponent,
  silentLogger,
  sleep,
  type EventsLogger,
  type PostgresEventStore,
} from '@campaigns/events';
import type { DataSource } from 'typeorm';
import { Counter, Registry } from 'prom-client';
import { plannerState, toChangesetSpec } from '../changeset/changeset-row.js';
import { planChangesetOperations, type ChangesetSpec } from '../planner/index.js';
import {
  ChangesetReadBatcher,
  type ChangesetReadBatcherOptions,
} from './changeset-read-batcher.js';
import { OperationExecutor } from './operation-executor.js';
import { retryDelayMs } from './reconcile-outcome.js';
import { ReconcileQueue, type Claim } from './reconcile-queue.js';
import { Round, RoundAborted } from './round.js';
import { loadRound } from './round-loader.js';
import { PublicationGate } from '../rollout/publication-gate.js';
import { rolloutClock, type RolloutClock } from '../rollout/rollout-clock.js';

export { retryDelayMs } from './reconcile-outcome.js';
export type { ReconcileOutcome } from './reconcile-outcome.js';

export interface ReconcilerWorkerOptions {
  /**
   * The service's DataSource: its connections search the schema where the changeset
   * projection lives (its rows, specs and the reconcile queue).
   */
  database: DataSource;
  store: PostgresEventStore;
  codeHosts: CodeHosts;
  config: CampaignsConfig;
  /** Lanes: changesets reconciled at once, each lane taking the next due one when it is free (default 16). */
  concurrency?: number;
  /** How the rounds' reads of the code host are gathered into batched queries. */
  reads?: ChangesetReadBatcherOptions;
  /** Wait between polls of an empty queue (default 250 ms). */
  pollMs?: number;
  /** How long a claim lasts before another worker may take the changeset (default 2 min). */
  leaseMs?: number;
  logger?: EventsLogger;
  workerId?: string;
  /** Called after each code host write and before its event is appended (tests simulate crashes here). */
  afterHostWrite?: (changesetId: string, operation: string) => Promise<void>;
  /** Where `campaigns_reconciler_operations_total` is registered (served at /metrics). */
  registry?: Registry;
  /** The clock publications are planned on (default: the wall clock; see rollout-clock.ts). */
  clock?: RolloutClock;
  /** Without `clock`: the wall clock sped up this many times (CAMPAIGNS_TIME_SCALE, default 1). */
  timeScale?: number;
}

/** Lanes of a worker when RECONCILER_CONCURRENCY does not say (see the README for the measurement). */
export const DEFAULT_CONCURRENCY = 64;

/**
 * Plans per round: the first from the projected state; one more when the first published, from
 * what the host answered (an already open PR from a crashed attempt may carry an older spec's
 * title, body, base or draft state, which the planner then corrects).
 */
const MAX_PLANS = 2;

/** What follows a refused merge (evolveChangeset lifts the refusal on these). */
const MERGE_REFUSED =
  'auto-merge tries again when the head, checks or review change, or a changed spec is applied';
/** What follows a refusal to turn on the host's auto-merge (evolveChangeset). */
const NATIVE_REFUSED = 'the reconciler merges it itself once its checks pass';

/** A terminal failure's message, with what auto-merge does after it. */
function refusalMessage(operation: string, message: string): string {
  if (operation === 'merge') return `${message}; ${MERGE_REFUSED}`;
  if (operation === 'enable-auto-merge') return `${message}; ${NATIVE_REFUSED}`;
  return message;
}

/**
 * Claims due changesets from the reconcile queue (ReconcileQueue), loads each one's round
 * (loadRound), plans it (the pure planner) and carries out the plan on the code host
 * (OperationExecutor), appending one event per operation right after it succeeded; each round
 * ends with a ReconcileOutcome.
 */
export class ReconcilerWorker extends LoopComponent {
  readonly name = 'reconciler-worker';
  private readonly workerId: string;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly logger: EventsLogger;
  private readonly queue: ReconcileQueue;
  private readonly executor: OperationExecutor;
  private readonly reads: ChangesetReadBatcher;
  private readonly gate: PublicationGate;
  /** Changesets this worker holds a claim on, renewed together while their rounds run. */
  private readonly held = new Set<string>();
  /** Rounds that may still read their changeset before acting: the read batch waits for them. */
  private roundsBeforeRead = 0;
  private readonly operations: Counter;

  constructor(private readonly options: ReconcilerWorkerOptions) {
    super();
    const registry = options.registry ?? new Registry();
    this.operations =
      (registry.getSingleMetric('campaigns_reconciler_operations_total') as Counter | undefined) ??
      new Counter({
        name: 'campaigns_reconciler_operations_total',
        help: 'Code host operations the reconciler performed, by operation and outcome',
        labelNames: ['operation', 'outcome'],
        registers: [registry],
      });
    this.workerId = options.workerId ?? `reconciler-${randomUUID()}`;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.pollMs = options.pollMs ?? 250;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.logger = options.logger ?? silentLogger;
    this.queue = new ReconcileQueue(options.database, this.workerId, this.leaseMs);
    this.executor = new OperationExecutor({
      store: options.store,
      resolver: new CodeHostResolver(options.config),
      logger: this.logger,
      operations: this.operations,
      ...(options.afterHostWrite ? { afterHostWrite: options.afterHostWrite } : {}),
    });
    this.gate = new PublicationGate(
      options.database,
      options.clock ?? rolloutClock(options.timeScale ?? 1),
    );
    this.reads = new ChangesetReadBatcher({
      readsToCome: () => this.roundsBeforeRead,
      ...options.reads,
    });
  }

  /**
   * `concurrency` lanes: whenever lanes are free, claim that many due changesets in one query and
   * start a round in each; a slow round holds only its own lane. An empty queue is polled every
   * `pollMs`; with every lane busy, the next claim waits for a lane to be given back.
   */
  protected async run(signal: AbortSignal): Promise<void> {
    const rounds = new Set<Promise<void>>();
    let busy = 0;
    let laneFreed: () => void = () => undefined;
    const takeLane = () => {
      busy++;
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        busy--;
        laneFreed();
      };
    };
    // Keep the claims while this process lives; a killed one's expire after leaseMs.
    const renewal = setInterval(
      () =>
        void this.queue
          .renew([...this.held])
          .catch((error: unknown) =>
            this.logger.warn({ err: (error as Error).message }, 'lease renewal failed'),
          ),
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    try {
      while (!signal.aborted) {
        const free = this.concurrency - busy;
        let claimed: Claim[] = [];
        if (free > 0) {
          try {
            claimed = await this.queue.claim(free);
          } catch (error) {
            this.logger.error({ err: (error as Error).message }, 'claiming changesets failed');
          }
        }
        for (const claim of claimed) {
          const releaseLane = takeLane();
          const round = this.reconcile(claim, releaseLane).finally(() => {
            releaseLane();
            rounds.delete(round);
          });
          rounds.add(round);
        }
        // Fewer due than free lanes: the queue is drained for now, poll it again later. Otherwise
        // claim again at once if lanes were given back meanwhile, or wait for the next one.
        if (claimed.length < free) await sleep(this.pollMs, signal);
        else if (busy >= this.concurrency)
          await new Promise<void>((resolve) => (laneFreed = resolve));
      }
    } finally {
      await Promise.all(rounds);
      clearInterval(renewal);
    }
  }

  /**
   * One changeset's round: read, plan and act, read again when the plan says so (after a push),
   * record. Once its code host writes are done, the round gives its lane back while its re-read
   * waits for a batch.
   */
  private async reconcile(claim: Claim, releaseLane: () => void): Promise<void> {
    this.held.add(claim.id);
    this.roundsBeforeRead++;
    let beforeRead = true;
    const pastRead = () => {
      if (!beforeRead) return;
      beforeRead = false;
      this.roundsBeforeRead--;
    };
    try {
      const r = await this.prepare(claim);
      // Read what the code host shows now, so a merge or a close the webhooks missed is known
      // before anything is written.
      if (r !== null && r.row.number !== null) await this.sync(r, pastRead);
      pastRead();
      this.reads.settle();
      if (r === null) return;
      await this.execute(r);
      releaseLane();
      if (!r.ended && r.readBack && r.row.number !== null) await this.sync(r);
      await this.finish(r);
    } catch (error) {
      // The claim is kept: the changeset is retried once its lease expires.
      this.logger.error(
        { changeset_id: claim.id, err: (error as Error).message },
        'reconcile round failed',
      );
    } finally {
      pastRead();
      this.held.delete(claim.id);
    }
  }

  private async prepare(claim: Claim): Promise<Round | null> {
    const loaded = await loadRound(this.options, claim);
    if ('round' in loaded) return new Round(loaded.round, this.options.store);
    const { waitVersion, done } = loaded.release;
    await this.queue.release(claim.id, claim.dueVersion, waitVersion, done);
    return null;
  }

  /** Plans and carries out the plan; plans once more when it published (see MAX_PLANS). */
  private async execute(r: Round): Promise<void> {
    if (r.ended) return;
    if (r.host === null) {
      await this.fail(
        r,
        'resolve',
        `no configured code host serves ${r.row.repository}; add it to the CAMPAIGNS_CONFIG file`,
        false,
        null,
        undefined,
      ).catch((e: unknown) => this.abandon(r, e));
      return;
    }
    let current = 'plan';
    let publication: string | null = null;
    try {
      const fork = r.hostConfig?.fork ?? false;
      let previous: ChangesetSpec | null = toChangesetSpec(r.previous, fork);
      // A branch changeset's spec as bulk operations amended it (held closed, published on
      // request: `specForRound`); an import's as recorded.
      const wanted = r.desired.importNumber === null ? r.spec : toChangesetSpec(r.desired, fork);
      for (let pass = 1; pass <= MAX_PLANS; pass++) {
        const state = plannerState(r.row, previous, r.host.capabilities);
        const plan = planChangesetOperations(previous, wanted, state);
        if (plan.error !== null) {
          await this.fail(r, 'plan', plan.error.message, false, null, undefined);
          return;
        }
        if (pass === 1) {
          current = 'schedule';
          const admission = await this.admitPublication(r, plan.operations);
          if (admission === 'scheduled') return;
          publication = admission;
        }
        for (const operation of plan.operations) {
          current = operation.type;
          await this.executor.perform(r, operation);
        }
        const published = plan.operations.some(
          (o) => o.type === 'publish' || o.type === 'publish-draft',
        );
        if (!published) return;
        // From here on the spec is what the changeset was published with.
        previous = r.spec;
        current = 'plan';
      }
    } catch (error) {
      if (error instanceof CodeHostError) {
        const retryable = error.kind !== 'terminal';
        await this.fail(
          r,
          current,
          retryable ? error.message : refusalMessage(current, error.message),
          retryable,
          error.context.status ?? null,
          error.retryAfterMs,
        ).catch((e: unknown) => this.abandon(r, e));
        return;
      }
      this.abandon(r, error);
    } finally {
      // The publication counts from when its round is over (after the host answered).
      if (publication !== null)
        await this.gate
          .done(publication)
          .catch((e: unknown) =>
            this.logger.warn({ err: (e as Error).message }, 'recording a publication failed'),
          );
    }
  }

  /**
   * A plan that publishes asks for a slot (rollout windows, content-creation limits, the
   * campaign's rate), one that merges (auto-merge) for one by the host's windows and limits: the
   * ledger entry when let through, null when nothing paces it, 'scheduled' when it waits
   * (ChangesetScheduled recorded). An unpublished changeset whose plan no longer publishes gives
   * its reservation back.
   */
  private async admitPublication(
    r: Round,
    operations: readonly { type: string }[],
  ): Promise<string | null | 'scheduled'> {
    const publishes = operations.some((o) => o.type === 'publish' || o.type === 'publish-draft');
    const merges = operations.some((o) => o.type === 'merge');
    if (!publishes && r.row.number === null && r.hostConfig !== null)
      await this.gate.cancel(r.changesetId);
    if (!publishes && !merges) return null;
    const admission = await this.gate.admit(r, publishes ? 'publish' : 'merge');
    if (admission === null) return null;
    if (admission.admitted) return admission.entryId;
    const data = this.gate.scheduled(admission);
    await r.append({
      type: 'ChangesetScheduled',
      data: { specEventId: r.desired.specEventId, ...data },
    });
    r.outcome = { kind: 'scheduled', afterMs: data.inMs };
    return 'scheduled';
  }

  private abandon(r: Round, error: unknown): void {
    r.outcome = error instanceof RoundAborted ? { kind: 'overtaken' } : { kind: 'crashed' };
    this.logger.warn(
      { changeset_id: r.changesetId, err: (error as Error).message },
      error instanceof RoundAborted ? 'reconcile round overtaken' : 'reconcile round failed',
    );
  }

  private async fail(
    r: Round,
    operation: string,
    message: string,
    retryable: boolean,
    httpStatus: number | null,
    retryAfterMs: number | undefined,
  ): Promise<void> {
    const attempt = r.row.attempts + 1;
    this.operations.inc({ operation, outcome: retryable ? 'retryable' : 'terminal' });
    const retryInMs = retryable ? retryDelayMs(attempt, retryAfterMs) : null;
    await r.append({
      type: 'ReconcileFailed',
      data: {
        specEventId: r.desired.specEventId,
        operation,
        retryable,
        attempt,
        message: message.slice(0, 4000),
        httpStatus,
        retryInMs,
      },
    });
    r.outcome = retryInMs === null ? { kind: 'terminal' } : { kind: 'retry', afterMs: retryInMs };
  }

  /**
   * Reads the round's changeset from its code host (in a batch with other rounds' reads) and
   * appends a `ChangesetObserved` (source sync) when it differs from what the round knows.
   */
  private async sync(r: Round, queued: () => void = () => undefined): Promise<void> {
    if (r.host === null) return;
    let o: ChangesetObservation | undefined;
    try {
      queued();
      o = await this.reads.load(r.host, { repo: r.row.repository, number: r.row.number! });
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'loading changesets failed');
      return;
    }
    if (o === undefined || !observationDiffers(r.row, o)) return;
    try {
      const data = changesetObserved(r.row, o.number, observedFields(o), { source: 'sync' });
      await r.append({ type: 'ChangesetObserved', data });
    } catch (error) {
      this.abandon(r, error);
    }
  }

  /** Records the outcome (ChangesetReconciled when it converged) and gives the claim back. */
  private async finish(r: Round): Promise<void> {
    try {
      if (!r.ended && r.desired.specEventId !== r.row.lastReconciledSpecEventId) {
        await r.append({
          type: 'ChangesetReconciled',
          data: { specEventId: r.desired.specEventId, operations: r.operations },
        });
      } else {
        await r.flush();
      }
      r.outcome ??= { kind: 'done' };
    } catch (error) {
      this.abandon(r, error);
    }
    const outcome = r.outcome ?? { kind: 'crashed' };
    if (outcome.kind === 'crashed') return;
    await this.queue
      .release(r.changesetId, r.claimedDueVersion, r.expected, outcome.kind !== 'overtaken')
      .catch((error: unknown) =>
        this.logger.error(
          { changeset_id: r.changesetId, err: (error as Error).message },
          'release failed',
        ),
      );
  }
}
