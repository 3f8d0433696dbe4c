import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PoolClient } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { Counter, Histogram, Registry } from 'prom-client';
import { silentLogger, type EventsLogger } from '../logger.js';
import { sleep } from '../timing/sleep.js';
import { LoopHealth } from '../loop-health.js';
import {
  DEFAULT_TOPOLOGY,
  ensureEventsStream,
  type EventsTopology,
} from '../nats/jetstream-topology.js';
import {
  assertIdentifier,
  type ProjectionContext,
  type ProjectionDefinition,
} from '../projections/projection.js';
import { ConsumerDeadLettered } from '../domain/events.js';
import { deadLetterStream } from '../domain/ids.js';
import { EventsError } from '../store/errors.js';
import {
  categoryOf,
  fromEnvelope,
  toEnvelope,
  type EventEnvelope,
  type StoredEvent,
} from '../store/event.js';
import type { PostgresEventStore, Queryable } from '../store/event-store.js';
import { DeadLetter, ProjectionCheckpoint } from '../database/consumer.entities.js';
import { selectEntities } from '../database/select-entities.js';
import { schemaOf } from '../database/database.js';

export interface ProjectionConsumerOptions {
  store: PostgresEventStore;
  /**
   * The service's DataSource, whose connections search `schema`: the transactions run there, with
   * the projection's tables, checkpoints and dead letters already migrated (`migrateDatabase`).
   */
  database: DataSource;
  nats: NatsConnection;
  projection: ProjectionDefinition;
  /** The owning service's schema; the projection's tables and bookkeeping live there. */
  schema: string;
  topology?: EventsTopology;
  /** Durable consumer name (default `<schema>_<projection>`). */
  durableName?: string;
  /** Transactions in flight at once; events of one stream always go to the same lane, in order. */
  concurrency?: number;
  batchSize?: number;
  /** Deliveries after which an event that keeps failing is dead-lettered (default 5). */
  maxDeliveries?: number;
  retryBackoffMs?: { initial: number; max: number };
  ackWaitMs?: number;
  registry?: Registry;
  logger?: EventsLogger;
  /** Called after a lane's transaction committed and before its messages are acknowledged. */
  afterCommit?: (events: readonly StoredEvent[]) => Promise<void>;
}

interface Item {
  msg: JsMsg;
  event: StoredEvent;
}

/** The outcome of `prepare` for one event of the slow path. */
type Preparation = { ok: true; prepared: unknown } | { ok: false; error: unknown };

const ns = (ms: number) => ms * 1_000_000;

function lane(streamId: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < streamId.length; i++) h = Math.imul(h ^ streamId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

/** Events whose payload can never validate go to the dead letters at once; retrying cannot help. */
const isPoisonByNature = (err: unknown) => err instanceof EventsError;

/**
 * A durable JetStream pull consumer that applies events to a projection exactly once.
 *
 * Each stream's last applied version is recorded beside the projection, in the same transaction
 * as the projection's writes; the messages are acknowledged after the commit. A redelivered or
 * republished event at or below that version is a duplicate and is only acknowledged. An event
 * that arrives ahead of its stream (an earlier one was nak'ed or is in flight elsewhere) first
 * applies the missing events read from the store, so per-stream order holds across instances.
 */
export class ProjectionConsumer {
  private readonly topology: EventsTopology;
  private readonly durableName: string;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly maxDeliveries: number;
  private readonly ackWaitMs: number;
  private readonly backoff: { initial: number; max: number };
  private readonly logger: EventsLogger;
  private readonly abort = new AbortController();
  private consumer?: Consumer;
  private loop?: Promise<void>;
  private readonly health = new LoopHealth();
  private readonly metrics: { events: Counter; batchSeconds: Histogram };

  constructor(private readonly options: ProjectionConsumerOptions) {
    assertIdentifier('schema', options.schema);
    if (schemaOf(options.database) !== options.schema)
      throw new Error(
        `consumer of ${options.projection.name}: its DataSource searches schema ${schemaOf(options.database) ?? '(none)'}, not ${options.schema}`,
      );
    this.topology = options.topology ?? DEFAULT_TOPOLOGY;
    this.durableName = options.durableName ?? `${options.schema}_${options.projection.name}`;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.batchSize = options.batchSize ?? 256;
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    this.backoff = options.retryBackoffMs ?? { initial: 500, max: 30_000 };
    this.logger = options.logger ?? silentLogger;
    const registry = options.registry ?? new Registry();
    const registers = [registry];
    // Several consumers of one process share its registry: the metrics are labelled by consumer.
    this.metrics = {
      events:
        (registry.getSingleMetric('campaigns_consumer_events_total') as Counter | undefined) ??
        new Counter({
          name: 'campaigns_consumer_events_total',
          help: 'Events handled by projection consumers, by outcome',
          labelNames: ['consumer', 'outcome'],
          registers,
        }),
      batchSeconds:
        (registry.getSingleMetric('campaigns_consumer_batch_seconds') as Histogram | undefined) ??
        new Histogram({
          name: 'campaigns_consumer_batch_seconds',
          help: 'Time to apply and commit one lane batch',
          labelNames: ['consumer'],
          registers,
        }),
    };
  }

  get name(): string {
    return this.durableName;
  }

  /** Ready once started, unless its last fetches all failed. */
  ready(): boolean {
    return this.health.ready(this.abort.signal.aborted);
  }

  /**
   * Creates the durable consumer (idempotent), then starts pulling. The projection's tables are
   * the service's migrations' work (`projectionSqlMigrations`), done before.
   */
  async start(): Promise<void> {
    const { projection } = this.options;
    const jsm = await jetstreamManager(this.options.nats);
    await ensureEventsStream(jsm, this.topology);
    const cats = projection.categories;
    const config: Partial<ConsumerConfig> & { durable_name: string } = {
      durable_name: this.durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // One category: let the server filter. Several: take all and skip the others here.
      filter_subject:
        cats.length === 1
          ? `${this.topology.subjectPrefix}.${cats[0]}.>`
          : `${this.topology.subjectPrefix}.>`,
      // Redelivery is bounded by our own dead-lettering, which must see every delivery.
      max_deliver: -1,
      ack_wait: ns(this.ackWaitMs),
      max_ack_pending: 20_000,
    };
    try {
      await jsm.consumers.add(this.topology.streamName, config);
    } catch (err) {
      if (!/already exists|already in use/i.test((err as Error).message)) throw err;
      await jsm.consumers.update(this.topology.streamName, this.durableName, config);
    }
    this.consumer = await jetstream(this.options.nats).consumers.get(
      this.topology.streamName,
      this.durableName,
    );
    this.health.markStarted();
    this.loop = this.run();
  }

  /** Stops pulling, lets the batch in flight commit and acknowledge, then returns. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /**
   * Consumes continuously (`consume()`, which re-pulls and survives missed heartbeats): a reader
   * buffers what arrives, and each round applies everything buffered, up to `batchSize`, as one
   * batch. A fetch per batch waited up to its expiry for a full batch, and when its heartbeats
   * were missed under load it threw away the messages it had received, which came back only
   * after the ack wait.
   */
  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let messages: ConsumerMessages;
      try {
        // A pull outlives a stopped consumer until it expires, swallowing what the server sends
        // it (until the ack wait): keep pulls short.
        messages = await this.consumer!.consume({ max_messages: this.batchSize, expires: 5000 });
        this.health.succeeded();
      } catch (err) {
        this.failedRound(err as Error);
        await sleep(1000, signal);
        continue;
      }
      const stop = () => messages.stop();
      signal.addEventListener('abort', stop, { once: true });
      this.watchPullStatus(messages);
      const buffer: JsMsg[] = [];
      // Who waits for whom: the worker for messages, the reader for room in the buffer.
      const wake: { worker?: () => void; reader?: () => void } = {};
      let ended = false;
      let failure: Error | undefined;
      const reader = (async () => {
        try {
          for await (const m of messages) {
            buffer.push(m);
            wake.worker?.();
            // Back pressure: consume() pulls again as its messages are taken from it.
            while (buffer.length >= this.batchSize * 2 && !signal.aborted) {
              await new Promise<void>((resolve) => (wake.reader = resolve));
            }
          }
        } catch (err) {
          failure = err as Error;
        } finally {
          ended = true;
          wake.worker?.();
        }
      })();
      try {
        for (;;) {
          if (buffer.length === 0) {
            if (ended || signal.aborted) break;
            await new Promise<void>((resolve) => (wake.worker = resolve));
            wake.worker = undefined;
            continue;
          }
          const batch = buffer.splice(0, this.batchSize);
          wake.reader?.();
          await this.processBatch(batch);
          this.health.succeeded();
        }
      } finally {
        signal.removeEventListener('abort', stop);
        messages.stop();
        wake.reader?.();
        await reader;
        // Taken but not applied (a stop): at once to another instance, not after the ack wait.
        for (const m of buffer.splice(0)) m.nak();
      }
      if (failure !== undefined && !signal.aborted) {
        this.failedRound(failure);
        await sleep(1000, signal);
      }
    }
  }

  /**
   * Logs when the server's heartbeats stop arriving (a stalled server, a paused process, a lost
   * route): `consume()` then pulls again by itself, and what was received is still applied.
   */
  private watchPullStatus(messages: ConsumerMessages): void {
    void (async () => {
      for await (const status of messages.status()) {
        if (status.type === 'heartbeats_missed') {
          this.logger.warn(
            { consumer: this.durableName, missed: status.count },
            'heartbeats missed; pulling again',
          );
        }
      }
    })().catch(() => undefined);
  }

  private failedRound(err: Error): void {
    this.health.failed();
    this.logger.error({ consumer: this.durableName, err: err.message }, 'fetch failed; retrying');
  }

  private async processBatch(batch: JsMsg[]): Promise<void> {
    const followed = new Set(this.options.projection.categories);
    const types = this.options.projection.types ? new Set(this.options.projection.types) : null;
    const lanes: Item[][] = Array.from({ length: this.concurrency }, () => []);
    for (const msg of batch) {
      let event: StoredEvent;
      try {
        event = fromEnvelope(msg.json<EventEnvelope>());
      } catch (err) {
        // Not one of ours (nothing else publishes here): nothing to apply or dead-letter it against.
        this.logger.error(
          { consumer: this.durableName, subject: msg.subject, err: (err as Error).message },
          'undecodable message terminated',
        );
        msg.term('undecodable');
        continue;
      }
      if (!followed.has(categoryOf(event.stream_id)) || (types && !types.has(event.type))) {
        msg.ack();
        continue;
      }
      lanes[lane(event.stream_id, this.concurrency)]!.push({ msg, event });
    }
    await Promise.all(lanes.filter((l) => l.length > 0).map((l) => this.processLane(l)));
  }

  private async processLane(items: Item[]): Promise<void> {
    const end = this.metrics.batchSeconds.startTimer({ consumer: this.durableName });
    // A long batch (a slow prepare) is still being worked on: keep JetStream from redelivering it.
    const heartbeat = setInterval(
      () => items.forEach((i) => i.msg.working()),
      Math.max(100, this.ackWaitMs / 3),
    );
    try {
      await this.applyTogether(items);
      return;
    } catch (err) {
      this.logger.warn(
        { consumer: this.durableName, err: (err as Error).message, events: items.length },
        'batch failed; applying one by one',
      );
      for (const item of items) {
        // applyAlone settles its message itself; should anything escape it anyway, the message
        // comes back later rather than ending this consumer.
        await this.applyAlone(item).catch((error: unknown) => {
          this.logger.error(
            { consumer: this.durableName, event_id: item.event.event_id, err: String(error) },
            'event failed outside its transaction; will retry',
          );
          item.msg.nak(this.retryDelay(item.msg.info.deliveryCount));
        });
      }
    } finally {
      clearInterval(heartbeat);
      end();
    }
  }

  /** The checkpoints as committed, without locking: what `prepare` works from. */
  private async readCheckpoints(streams: string[]): Promise<Map<string, bigint>> {
    const { database, projection } = this.options;
    // Every batch reads them: without the QueryBuilder's per-call cost (see selectEntities).
    const rows = await selectEntities(
      database.manager,
      ProjectionCheckpoint,
      'projection = $1 AND stream_id = ANY ($2::text[])',
      [projection.name, [...new Set(streams)]],
    );
    return new Map(rows.map((r) => [r.streamId, BigInt(r.streamVersion)]));
  }

  /** Locks (creating if needed) the checkpoint rows of these streams, in a fixed order against deadlocks. */
  private lockCheckpoints(manager: EntityManager, streams: string[]): Promise<Map<string, bigint>> {
    return lockCheckpointRows(manager, this.options.schema, this.options.projection.name, streams);
  }

  /** One set-based UPDATE for the batch (the QueryBuilder has no UPDATE … FROM unnest). */
  private async saveCheckpoints(
    manager: EntityManager,
    checkpoints: Map<string, bigint>,
  ): Promise<void> {
    const { schema, projection } = this.options;
    await manager.query(
      `UPDATE ${schema}.projection_checkpoints c SET stream_version = x.v
         FROM unnest($2::text[], $3::bigint[]) AS x(s, v)
        WHERE c.projection = $1 AND c.stream_id = x.s`,
      [projection.name, [...checkpoints.keys()], [...checkpoints.values()].map(String)],
    );
  }

  /** The events a message stands for: the ones its stream still misses, then its own; none if a duplicate. */
  private async eventsFor(db: Queryable, item: Item, last: bigint): Promise<StoredEvent[]> {
    const v = item.event.stream_version;
    if (v <= last) return [];
    const missing =
      v > last + 1n
        ? await this.options.store.readStream(
            item.event.stream_id,
            { fromVersion: last + 1n, toVersion: v - 1n },
            db,
          )
        : [];
    return [...missing, this.options.store.upcast(item.event)];
  }

  /** The events the messages stand for after `checkpoints`, which move on as they are taken. */
  private async eventsAfter(
    db: Queryable,
    items: Item[],
    checkpoints: Map<string, bigint>,
  ): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (const item of items) {
      const events = await this.eventsFor(db, item, checkpoints.get(item.event.stream_id) ?? 0n);
      if (events.length === 0) continue;
      out.push(...events);
      checkpoints.set(item.event.stream_id, item.event.stream_version);
    }
    return out;
  }

  /**
   * Runs the projection's `prepare` before any transaction, on the events as seen from the
   * committed checkpoints: a superset of what the transaction will apply, as checkpoints only rise.
   */
  private async prepareBatch(items: Item[]): Promise<Pick<ProjectionContext, 'prepared'>> {
    const { projection } = this.options;
    if (!projection.prepare) return {};
    const checkpoints = await this.readCheckpoints(items.map((i) => i.event.stream_id));
    const events = await this.eventsAfter(this.options.store.pool, items, checkpoints);
    return events.length === 0 ? {} : { prepared: await projection.prepare(events) };
  }

  /** Fast path: the whole lane batch in one transaction and one handler call. */
  private async applyTogether(items: Item[]): Promise<void> {
    const prepared = await this.prepareBatch(items);
    const { runner, tx } = await this.begin();
    const { manager } = runner;
    let applied: StoredEvent[] = [];
    try {
      const checkpoints = await this.lockCheckpoints(
        manager,
        items.map((i) => i.event.stream_id),
      );
      applied = await this.eventsAfter(tx, items, checkpoints);
      if (applied.length > 0) {
        await this.options.projection.handle(applied, {
          tx,
          manager,
          schema: this.options.schema,
          ...prepared,
        });
        await this.saveCheckpoints(manager, checkpoints);
      }
      await runner.commitTransaction();
    } catch (err) {
      await runner.rollbackTransaction().catch(() => undefined);
      applied = [];
      throw err;
    } finally {
      await runner.release();
    }
    await this.options.afterCommit?.(applied);
    for (const item of items) item.msg.ack();
    this.metrics.events.inc({ consumer: this.durableName, outcome: 'applied' }, applied.length);
    this.metrics.events.inc(
      { consumer: this.durableName, outcome: 'duplicate' },
      Math.max(0, items.length - applied.length),
    );
  }

  /** A transaction on one of the DataSource's connections; `tx` is its pg client, for the store. */
  private async begin(): Promise<{ runner: QueryRunner; tx: PoolClient }> {
    const runner = this.options.database.createQueryRunner();
    try {
      const tx = (await runner.connect()) as PoolClient;
      await runner.startTransaction();
      return { runner, tx };
    } catch (err) {
      await runner.release().catch(() => undefined);
      throw err;
    }
  }

  /**
   * The events the slow path applies for one message: as `eventsFor`, but when one of them can
   * never validate, the message's own event alone (applying it dead-letters it).
   */
  private async eventsAlone(db: Queryable, item: Item, last: bigint): Promise<StoredEvent[]> {
    try {
      return await this.eventsFor(db, item, last);
    } catch (err) {
      if (!isPoisonByNature(err)) throw err;
      return [item.event];
    }
  }

  /** `prepare` for each event of the slow path on its own, so a failure is pinned to its event. */
  private async prepareAlone(item: Item): Promise<Map<string, Preparation>> {
    const { projection, store } = this.options;
    const out = new Map<string, Preparation>();
    if (!projection.prepare) return out;
    const stream = item.event.stream_id;
    const last = (await this.readCheckpoints([stream])).get(stream) ?? 0n;
    for (const e of await this.eventsAlone(store.pool, item, last)) {
      try {
        const current = e === item.event ? store.upcast(e) : e;
        out.set(e.event_id, { ok: true, prepared: await projection.prepare([current]) });
      } catch (error) {
        out.set(e.event_id, { ok: false, error });
      }
    }
    return out;
  }

  /**
   * Slow path after a failed batch: one message, each of its events behind a savepoint, so the
   * event that fails is known. It is retried later (nak with backoff) or, once its message was
   * delivered maxDeliveries times or its payload can never validate, dead-lettered and skipped.
   */
  private async applyAlone(item: Item): Promise<void> {
    const { schema, projection, store } = this.options;
    let failure: unknown;
    let ownDeadLettered = false;
    const applied: StoredEvent[] = [];
    const attempts = item.msg.info.deliveryCount;
    let preparations = new Map<string, Preparation>();
    try {
      preparations = await this.prepareAlone(item);
    } catch (err) {
      failure = err;
    }
    let opened: { runner: QueryRunner; tx: PoolClient } | undefined;
    try {
      // Inside the try: when the database is away, opening the transaction is what fails, and
      // the message must come back later (nak with backoff), not end the consumer.
      if (failure === undefined) opened = await this.begin();
      if (opened) {
        const { runner, tx } = opened;
        const { manager } = runner;
        const checkpoints = await this.lockCheckpoints(manager, [item.event.stream_id]);
        let last = checkpoints.get(item.event.stream_id)!;
        for (const e of await this.eventsAlone(tx, item, last)) {
          await tx.query('SAVEPOINT one_event');
          try {
            const current = e === item.event ? store.upcast(e) : e;
            const preparation = preparations.get(e.event_id);
            if (preparation?.ok === false) throw preparation.error;
            await projection.handle([current], {
              tx,
              manager,
              schema,
              ...(preparation ? { prepared: preparation.prepared } : {}),
            });
            await tx.query('RELEASE SAVEPOINT one_event');
            applied.push(current);
          } catch (err) {
            await tx.query('ROLLBACK TO SAVEPOINT one_event');
            if (!isPoisonByNature(err) && attempts < this.maxDeliveries) {
              failure = err;
              break;
            }
            await this.deadLetter(manager, tx, e, err as Error, attempts);
            if (e.event_id === item.event.event_id) ownDeadLettered = true;
          }
          last = e.stream_version;
        }
        checkpoints.set(item.event.stream_id, last);
        await this.saveCheckpoints(manager, checkpoints);
        await runner.commitTransaction();
      }
    } catch (err) {
      await opened?.runner.rollbackTransaction().catch(() => undefined);
      failure = err;
    } finally {
      await opened?.runner.release();
    }
    if (failure === undefined) await this.options.afterCommit?.(applied);
    this.metrics.events.inc({ consumer: this.durableName, outcome: 'applied' }, applied.length);
    if (failure !== undefined) {
      const delay = this.retryDelay(attempts);
      this.logger.warn(
        {
          consumer: this.durableName,
          event_id: item.event.event_id,
          stream_id: item.event.stream_id,
          attempts,
          retry_in_ms: delay,
          err: (failure as Error).message,
        },
        'event failed; will retry',
      );
      this.metrics.events.inc({ consumer: this.durableName, outcome: 'retried' });
      item.msg.nak(delay);
    } else if (ownDeadLettered) {
      item.msg.term('dead-lettered');
    } else {
      item.msg.ack();
    }
  }

  /** Exponential backoff of a message's redelivery, by how often it was delivered. */
  private retryDelay(attempts: number): number {
    return Math.min(this.backoff.initial * 2 ** (attempts - 1), this.backoff.max);
  }

  private async deadLetter(
    manager: EntityManager,
    tx: PoolClient,
    e: StoredEvent,
    err: Error,
    attempts: number,
  ): Promise<void> {
    const { projection } = this.options;
    const message = `${err.name}: ${err.message}`.slice(0, 4000);
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(DeadLetter)
      .values({
        projection: projection.name,
        eventId: e.event_id,
        streamId: e.stream_id,
        streamVersion: e.stream_version.toString(),
        type: e.type,
        error: message,
        attempts,
        event: toEnvelope(e),
      })
      .orIgnore()
      .returning(['id'])
      .execute();
    if ((inserted.raw as unknown[]).length === 1)
      await this.recordDeadLetter(tx, e, message, attempts);
    this.metrics.events.inc({ consumer: this.durableName, outcome: 'dead_lettered' });
    this.logger.error(
      {
        consumer: this.durableName,
        event_id: e.event_id,
        stream_id: e.stream_id,
        type: e.type,
        attempts,
        err: message,
      },
      'event dead-lettered',
    );
  }

  /**
   * Says in the log that this consumer gave up on `e` (ConsumerDeadLettered), in the transaction
   * of its dead_letters row, so whoever waits on the event's outcome learns it never comes.
   * Stores whose catalogue lacks the type (the library's own tests) record only the row.
   */
  private async recordDeadLetter(
    tx: PoolClient,
    e: StoredEvent,
    error: string,
    attempts: number,
  ): Promise<void> {
    const { store } = this.options;
    if (!store.catalogue.has(ConsumerDeadLettered.type)) return;
    const named = (e.data as { campaign?: unknown } | null)?.campaign;
    const campaign = ConsumerDeadLettered.schema.shape.campaign.safeParse(named);
    const data = {
      consumer: this.durableName,
      eventId: e.event_id,
      eventType: e.type,
      streamId: e.stream_id,
      ...(typeof named === 'string' && campaign.success ? { campaign: named } : {}),
      error,
      attempts,
    };
    const append = (d: typeof data) =>
      store.append(
        deadLetterStream(this.durableName),
        [{ type: ConsumerDeadLettered.type, data: d }],
        {
          expected: 'any',
          metadata: {
            correlation_id: e.metadata.correlation_id,
            causation_id: e.event_id,
            actor: e.metadata.actor,
            source: this.durableName,
          },
        },
        tx,
      );
    try {
      await append(data);
    } catch (err) {
      // Refused before anything was sent (e.g. the error text holds a configured secret): the
      // dead letter is still announced, without the text.
      if (!(err instanceof EventsError)) throw err;
      await append({ ...data, error: `(the error is not recorded: ${err.code})` });
    }
  }
}

/**
 * Locks the checkpoint rows of `streams` for `projection` (creating missing ones at version 0),
 * in stream order against deadlocks, and returns their versions: one round trip, and a second
 * only for rows another transaction created meanwhile. Raw SQL (`manager.query`): one statement
 * that inserts the missing rows and locks the existing ones is a CTE the QueryBuilder cannot write.
 */
export async function lockCheckpointRows(
  tx: { query(sql: string, parameters?: unknown[]): Promise<unknown> },
  schema: string,
  projection: string,
  streams: readonly string[],
): Promise<Map<string, bigint>> {
  const sorted = [...new Set(streams)].sort();
  // One round trip: rows this statement creates are ours (and locked) at version 0; the
  // others are locked by the SELECT. A row another transaction created and committed after
  // this statement's snapshot is in neither: those are locked by a second statement.
  const rows = (await tx.query(
    `WITH created AS (
         INSERT INTO ${schema}.projection_checkpoints (projection, stream_id, stream_version)
         SELECT $1, s, 0 FROM unnest($2::text[]) AS s ORDER BY s
         ON CONFLICT (projection, stream_id) DO NOTHING
         RETURNING stream_id, stream_version)
       SELECT stream_id, stream_version FROM created
       UNION ALL
       SELECT stream_id, stream_version FROM (
         SELECT stream_id, stream_version FROM ${schema}.projection_checkpoints
          WHERE projection = $1 AND stream_id = ANY ($2::text[])
          ORDER BY stream_id FOR UPDATE) AS existing`,
    [projection, sorted],
  )) as { stream_id: string; stream_version: string }[];
  const locked = new Map(rows.map((r) => [r.stream_id, BigInt(r.stream_version)]));
  const unseen = sorted.filter((s) => !locked.has(s));
  if (unseen.length > 0) {
    const again = (await tx.query(
      `SELECT stream_id, stream_version FROM ${schema}.projection_checkpoints
          WHERE projection = $1 AND stream_id = ANY ($2::text[]) ORDER BY stream_id FOR UPDATE`,
      [projection, unseen],
    )) as { stream_id: string; stream_version: string }[];
    for (const r of again) locked.set(r.stream_id, BigInt(r.stream_version));
  }
  return locked;
}
