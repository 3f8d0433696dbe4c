import type { WebhookDelivery, WebhookFacts } from '@campaigns/codehost';
import { changesetStream, type PostgresEventStore, type StreamAppend } from '@campaigns/events';
import type { ServiceComponent } from '@campaigns/service-kit';
import type { PoolClient } from 'pg';
import { Histogram, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { decideDelivery, type Observation, type RecordOutcome } from './delivery-decision.js';
import { GroupCommitQueue, type BatchOutcome } from './group-commit-queue.js';
import { loadTracked, noteDeliveries } from './recorder-tables.js';

export const WEBHOOK_GATEWAY_SCHEMA = 'webhook_gateway';
export type { RecordOutcome } from './delivery-decision.js';

/** A verified delivery and what it says, waiting to be recorded. */
export interface DeliveryToRecord {
  delivery: WebhookDelivery;
  facts: WebhookFacts;
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
  record(delivery: WebhookDelivery, facts: WebhookFacts | null): Promise<RecordOutcome> {
    if (facts === null) return Promise.resolve({ outcome: 'ignored', reason: 'event' });
    return this.queue.submit({ delivery, facts });
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
    const tracked = await loadTracked(client, batch);
    const decisions = batch.map((item, i) => decideDelivery(item, tracked[i]!));
    // The first of several deliveries with one id in the batch stands for them all.
    const first = new Map<string, number>();
    batch.forEach((item, i) => {
      if (!first.has(item.delivery.id)) first.set(item.delivery.id, i);
    });
    const toNote = decisions.flatMap((d, i) =>
      d.note !== undefined && first.get(batch[i]!.delivery.id) === i ? [{ i, ...d.note }] : [],
    );
    const noted = await noteDeliveries(
      client,
      toNote.map(({ i, changesetIds }) => ({ ...batch[i]!, changesetIds })),
    );
    const appends: (StreamAppend & { event: Observation['event'] })[] = [];
    const outcomes = decisions.map((decision, i): RecordOutcome => {
      const id = batch[i]!.delivery.id;
      if (first.get(id) !== i) return { outcome: 'duplicate' };
      if (decision.note === undefined) return decision.outcome;
      if (!noted.has(id)) return { outcome: 'duplicate' };
      for (const o of decision.observations)
        appends.push({ stream: changesetStream(o.changesetId), event: o.event, expected: 'any' });
      return decision.outcome;
    });
    // Each event carries its delivery's metadata; the call's is only the default.
    if (appends.length > 0)
      await this.eventStore.appendToStreams(appends, appends[0]!.event.metadata, client);
    return outcomes;
  }
}
