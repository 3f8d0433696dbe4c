import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PoolClient } from 'pg';
import { checkout } from '../store/checkout.js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { silentLogger, type EventsLogger } from '../logger.js';
import { sleep } from '../timing/sleep.js';
import { LoopHealth } from '../loop-health.js';
import {
  DEFAULT_TOPOLOGY,
  ensureEventsStream,
  subjectOf,
  type EventsTopology,
} from '../nats/jetstream-topology.js';
import { START_OF_LOG, type GlobalCheckpoint } from '../store/event.js';
import type { PostgresEventStore, SerializedEnvelope } from '../store/event-store.js';

export interface EventRelayOptions {
  store: PostgresEventStore;
  nats: NatsConnection;
  topology?: EventsTopology;
  /** Checkpoint and leadership are per relay name (default `events`). */
  name?: string;
  batchSize?: number;
  /** Idle wait between reads when the log is caught up. */
  pollIntervalMs?: number;
  /** How often a standby candidate tries to become the leader. */
  leaderRetryMs?: number;
  duplicateWindowMs?: number;
  registry?: Registry;
  logger?: EventsLogger;
  /** Called after a batch is acknowledged by JetStream and before its checkpoint is written. */
  afterPublish?: (events: readonly SerializedEnvelope[]) => Promise<void>;
}

const LEADER_LOCK_CLASS = 7_042_002;

/**
 * Transactional outbox relay: publishes the event store to JetStream in store order. Every
 * service instance runs a candidate; the one holding a session advisory lock is the leader.
 * The checkpoint moves only after JetStream acknowledged the batch, so a crash republishes
 * (JetStream dedupes by Nats-Msg-Id = event id; consumers dedupe beyond its window).
 */
export class EventRelay {
  private readonly topology: EventsTopology;
  private readonly relayName: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaderRetryMs: number;
  private readonly logger: EventsLogger;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private leaderClient?: PoolClient & { done(err?: Error | boolean): void };
  private js?: JetStreamClient;
  private checkpoint: GlobalCheckpoint = START_OF_LOG;
  private prefetched?: ReturnType<PostgresEventStore['readEnvelopes']>;
  private readonly health = new LoopHealth();
  private readonly metrics: {
    published: Counter;
    leader: Gauge;
    lag: Gauge;
    batchSeconds: Histogram;
  };

  constructor(private readonly options: EventRelayOptions) {
    this.topology = options.topology ?? DEFAULT_TOPOLOGY;
    this.relayName = options.name ?? 'events';
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.leaderRetryMs = options.leaderRetryMs ?? 1000;
    this.logger = options.logger ?? silentLogger;
    const registers = [options.registry ?? new Registry()];
    const labelNames = ['relay'] as const;
    this.metrics = {
      published: new Counter({
        name: 'campaigns_relay_published_events_total',
        help: 'Events published to JetStream by this relay',
        labelNames,
        registers,
      }),
      leader: new Gauge({
        name: 'campaigns_relay_leader',
        help: '1 while this instance is the active relay',
        labelNames,
        registers,
      }),
      lag: new Gauge({
        name: 'campaigns_relay_lag_events',
        help: 'Committed events not yet published (measured by the leader)',
        labelNames,
        registers,
      }),
      batchSeconds: new Histogram({
        name: 'campaigns_relay_batch_seconds',
        help: 'Time to publish one batch and checkpoint it',
        labelNames,
        registers,
      }),
    };
    this.metrics.leader.set({ relay: this.relayName }, 0);
  }

  /** How the relay shows up among a service's components and readiness checks. */
  get name(): string {
    return `relay:${this.relayName}`;
  }

  get isLeader(): boolean {
    return this.leaderClient !== undefined;
  }

  /** Ready once started, as a leader or a standby, unless its last rounds all failed. */
  ready(): boolean {
    return this.health.ready(this.abort.signal.aborted);
  }

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.options.nats);
    await ensureEventsStream(jsm, this.topology, {
      duplicateWindowMs: this.options.duplicateWindowMs,
    });
    this.js = jetstream(this.options.nats);
    this.health.markStarted();
    this.loop = this.run();
  }

  /** Stops after the batch in flight is published and checkpointed, then gives up leadership. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.resign();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let lagMeasuredAt = 0;
    while (!signal.aborted) {
      try {
        if (!this.leaderClient && !(await this.tryLead())) {
          // A standby that asked and was told another candidate leads is healthy: without this,
          // a standby that failed while the database was away stayed not ready for good.
          this.health.succeeded();
          await sleep(this.leaderRetryMs, signal);
          continue;
        }
        const published = await this.relayBatch();
        this.health.succeeded();
        if (Date.now() - lagMeasuredAt > 2000) {
          lagMeasuredAt = Date.now();
          await this.measureLag();
        }
        if (published < this.batchSize) await sleep(this.pollIntervalMs, signal);
      } catch (err) {
        this.health.failed();
        this.logger.error(
          { err: (err as Error).message, relay: this.relayName },
          'relay batch failed; resigning and retrying',
        );
        await this.resign(err as Error);
        await sleep(this.leaderRetryMs, signal);
      }
    }
  }

  private async tryLead(): Promise<boolean> {
    const client = await checkout(this.options.store.pool, (err) =>
      this.logger.warn(
        { relay: this.relayName, err: err.message },
        'relay lost its database session; another candidate may lead',
      ),
    );
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [LEADER_LOCK_CLASS, this.relayName],
      );
      if (!rows[0]!.locked) {
        client.done();
        return false;
      }
    } catch (err) {
      client.done(err as Error);
      throw err;
    }
    this.leaderClient = client;
    const cp = await client.query<{ transaction_id: string; global_position: string }>(
      'SELECT transaction_id, global_position FROM eventstore.relay_checkpoints WHERE relay = $1',
      [this.relayName],
    );
    this.checkpoint = cp.rows[0]
      ? {
          transactionId: BigInt(cp.rows[0].transaction_id),
          globalPosition: BigInt(cp.rows[0].global_position),
        }
      : START_OF_LOG;
    this.metrics.leader.set({ relay: this.relayName }, 1);
    this.logger.info(
      {
        relay: this.relayName,
        checkpoint: `${this.checkpoint.transactionId}/${this.checkpoint.globalPosition}`,
      },
      'relay is now the leader',
    );
    return true;
  }

  /** Gives the lock back by closing the session: a destroyed connection can never keep it. */
  private async resign(err?: Error): Promise<void> {
    const client = this.leaderClient;
    if (!client) return;
    this.leaderClient = undefined;
    this.prefetched = undefined;
    this.metrics.leader.set({ relay: this.relayName }, 0);
    client.done(err ?? true);
  }

  private read(after: GlobalCheckpoint) {
    const page = this.options.store.readEnvelopes(
      { after, limit: this.batchSize },
      this.leaderClient!,
    );
    page.catch(() => undefined); // a prefetch nobody awaits must not become an unhandled rejection
    return page;
  }

  private async relayBatch(): Promise<number> {
    const client = this.leaderClient!;
    const { envelopes: events, checkpoint } = await (this.prefetched ?? this.read(this.checkpoint));
    // While this page is published the next one is read: PostgreSQL and NATS work at once.
    this.prefetched = events.length === this.batchSize ? this.read(checkpoint) : undefined;
    if (events.length === 0) return 0;
    const end = this.metrics.batchSeconds.startTimer({ relay: this.relayName });
    const js = this.js!;
    // Publishes are pipelined on one connection, so JetStream receives them in store order.
    await Promise.all(
      events.map((e) =>
        js.publish(subjectOf(this.topology, e.streamId, e.type), e.json, { msgID: e.eventId }),
      ),
    );
    await this.options.afterPublish?.(events);
    await client.query(
      `INSERT INTO eventstore.relay_checkpoints (relay, transaction_id, global_position, updated_at)
       VALUES ($1, $2::xid8, $3, now())
       ON CONFLICT (relay) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
         global_position = EXCLUDED.global_position, updated_at = now()`,
      [this.relayName, checkpoint.transactionId.toString(), checkpoint.globalPosition.toString()],
    );
    this.checkpoint = checkpoint;
    this.metrics.published.inc({ relay: this.relayName }, events.length);
    end();
    return events.length;
  }

  private async measureLag(): Promise<void> {
    const { rows } = await this.leaderClient!.query<{ n: string }>(
      `SELECT count(*) AS n FROM eventstore.events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)`,
      [this.checkpoint.transactionId.toString(), this.checkpoint.globalPosition.toString()],
    );
    this.metrics.lag.set({ relay: this.relayName }, Number(rows[0]!.n));
  }
}
