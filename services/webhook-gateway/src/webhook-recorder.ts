import type { WebhookDelivery, WebhookFacts } from '@campaigns/codehost';
import { changesetStream, type PostgresEventStore, type StreamAppend } from '@campaigns/events';
import type { ServiceComponent } from '@campaigns/service-kit';
import type { PoolClient } from 'pg';
import { Histogram, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import {
  checkedCommit,
  commitKey,
  decideDelivery,
  type Observation,
  type RecordOutcome,
} from './delivery-decision.js';
import { loadState, saveBatch, type ParkedItem } from './recorder-state.js';
import { GroupCommitQueue, type BatchOutcome } from './group-commit-queue.js';
import { takeBatch } from './recorder-tables.js';

export const WEBHOOK_GATEWAY_SCHEMA = 'webhook_gateway';
export type { RecordOutcome } from './delivery-decision.js';

/** A verified delivery and what it says, waiting to be recorded. */
export interface DeliveryToRecord {
  delivery: Pick<WebhookDelivery, 'id' | 'event' | 'action'>;
  facts: WebhookFacts;
  /** Held earlier (its pull request was not tracked yet), now taken up again. */
  parked?: true;
}

export interface WebhookRecorderOptions {
  /** Most deliveries recorded in one transaction (default 500). */
  maxBatch?: number;
  /** Most deliveries waiting beyond the batch being written (default 10,000): then 503. */
  maxPending?: number;
  /** Where the batch sizes are reported (`webhook_recorder_batch_size`). */
  registry?: Registry;
}

/**
 * Turns verified deliveries into ChangesetObserved events on the streams of the tracked
 * changesets they concern. Deliveries are group-committed: those arriving while a batch is being
 * written are recorded together in the next transaction, the delivery ids with the events, so a
 * redelivered webhook finds its id and records nothing. A burst costs a few transactions on one
 * connection instead of a connection each (which the pool could not give within its timeout).
 */
export class WebhookRecorder implements ServiceComponent {
  readonly name = 'webhook-recorder';
  private readonly queue: GroupCommitQueue<DeliveryToRecord, RecordOutcome>;
  private readonly batchSizes?: Histogram;
  private stopping = false;

  constructor(
    /** The gateway's DataSource: its connections search webhook_gateway. */
    private readonly database: DataSource,
    private readonly eventStore: PostgresEventStore,
    options: WebhookRecorderOptions = {},
  ) {
    this.queue = new GroupCommitQueue({
      handle: (batch) => this.recordBatch(batch),
      maxBatch: options.maxBatch ?? 500,
      maxPending: options.maxPending ?? 10_000,
    });
    if (options.registry !== undefined)
      this.batchSizes = new Histogram({
        name: 'webhook_recorder_batch_size',
        help: 'Deliveries recorded per transaction',
        buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
        registers: [options.registry],
      });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  ready(): boolean {
    return !this.stopping;
  }

  /** Deliveries waiting to be written. */
  get pending(): number {
    return this.queue.pending;
  }

  /**
   * Records what a verified delivery says (`facts`, from its code host) about tracked pull
   * requests, once it is committed. Rejects with QueueFullError when too many wait already.
   */
  record(
    delivery: WebhookDelivery,
    facts: WebhookFacts | null,
    options: { parked?: true } = {},
  ): Promise<RecordOutcome> {
    if (facts === null) return Promise.resolve({ outcome: 'ignored', reason: 'event' });
    return this.queue.submit({ delivery, facts, ...options });
  }

  /** Takes no new delivery and waits until those taken are written. */
  stop(): Promise<void> {
    this.stopping = true;
    return this.queue.stop();
  }

  /** One transaction for a batch: the tracked pull requests, the delivery ids, the events. */
  private async recordBatch(
    batch: readonly DeliveryToRecord[],
  ): Promise<BatchOutcome<RecordOutcome>[]> {
    this.batchSizes?.observe(batch.length);
    // A connection that dies while checked out fails its next query instead of crashing, and
    // the pool drops it (the query runner releases it with the error).
    const runner = this.database.createQueryRunner();
    try {
      // The runner's pg client: the event store appends through it, in the same transaction.
      const client = (await runner.connect()) as PoolClient;
      await runner.startTransaction();
      const outcomes = await this.recordIn(client, batch);
      await runner.commitTransaction();
      return outcomes.map((value) => ({ ok: true, value }));
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  private async recordIn(
    client: PoolClient,
    batch: readonly DeliveryToRecord[],
  ): Promise<RecordOutcome[]> {
    const outcomes: RecordOutcome[] = batch.map(() => ({ outcome: 'duplicate' }));
    // The first of several deliveries with one id in the batch stands for them all; a delivery
    // noted before (or a held one another gateway took up) is a duplicate, and nothing else is
    // done for it.
    const first = new Map<string, number>();
    batch.forEach((item, i) => {
      if (!first.has(item.delivery.id)) first.set(item.delivery.id, i);
    });
    const firsts = [...first.values()];
    const fresh = firsts.filter((i) => batch[i]!.parked !== true);
    const held = firsts.filter((i) => batch[i]!.parked === true);
    // Fresh deliveries first, then held ones: the order takeBatch answers in.
    const order = [...fresh, ...held];
    const { taken, tracked: trackedInOrder } = await takeBatch(
      client,
      fresh.map((i) => batch[i]!),
      held.map((i) => batch[i]!),
      // The commits whose checks the batch reports: locked with the pull requests it concerns.
      checkedCommits(order.map((i) => batch[i]!)).map((c) => commitKey(c.repository, c.sha)),
    );
    const live = order
      .map((i, n) => ({ i, tracked: trackedInOrder[n]! }))
      .filter(({ i }) => taken.has(batch[i]!.delivery.id))
      .sort((a, b) => a.i - b.i);
    const items = live.map(({ i }) => batch[i]!);

    // Read after the first statement took the locks on them: another gateway's batch about them
    // committed before, or waits for this one.
    const state = await loadState(
      client,
      live.flatMap(({ tracked }) =>
        tracked.map((t) => ({ repository: t.repository, number: t.number })),
      ),
      checkedCommits(items),
      items.some((item) => item.facts.review !== undefined),
    );

    const appends: (StreamAppend & { event: Observation['event'] })[] = [];
    const parked: ParkedItem[] = [];
    const recorded: { deliveryId: string; changesetIds: string[] }[] = [];
    live.forEach(({ i, tracked }) => {
      const item = batch[i]!;
      const decision = decideDelivery(item, tracked, state);
      outcomes[i] = decision.outcome;
      if (decision.park === true)
        parked.push({
          delivery: { id: item.delivery.id, event: item.delivery.event, ...action(item) },
          facts: item.facts,
        });
      for (const o of decision.observations)
        appends.push({ stream: changesetStream(o.changesetId), event: o.event, expected: 'any' });
      if (decision.outcome.outcome === 'recorded')
        recorded.push({
          deliveryId: item.delivery.id,
          changesetIds: decision.outcome.changesetIds,
        });
    });

    await saveBatch(client, state, parked, recorded);
    // Each event carries its delivery's metadata; the call's is only the default. In stream
    // order, so that two gateways appending to the same streams lock them in the same order.
    appends.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
    if (appends.length > 0)
      await this.eventStore.appendToStreams(appends, appends[0]!.event.metadata, client);
    return outcomes;
  }
}

/** The commits whose checks these deliveries report. */
function checkedCommits(items: readonly DeliveryToRecord[]): { repository: string; sha: string }[] {
  return items
    .filter((item) => item.facts.check !== undefined)
    .map((item) => ({ repository: item.facts.repository, sha: checkedCommit(item.facts) }));
}

function action(item: DeliveryToRecord): { action?: string } {
  return item.delivery.action === undefined ? {} : { action: item.delivery.action };
}
