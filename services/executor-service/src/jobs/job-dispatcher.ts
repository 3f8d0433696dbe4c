import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  ExecutionQueued,
  jobsTopology,
  ProjectionConsumer,
  projectionSqlMigrations,
  type EventsLogger,
  type EventsTopology,
  type ExecutionJob,
  type MigrationClass,
  type PostgresEventStore,
  type ProjectionDefinition,
} from '@campaigns/events';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { DispatchedExecution } from './dispatched-execution.entity.js';
import { ensureJobsStream } from './jobs-stream.js';

/** Header naming the ExecutionQueued event a job message stands for (its causation). */
export const JOB_EVENT_ID_HEADER = 'Campaigns-Event-Id';

export const EXECUTOR_SCHEMA = 'executor_service';

/**
 * The dispatcher's projection without its handler: its tables, which the service migrates before
 * NATS is connected (the handler publishes through it).
 */
const JOB_DISPATCHER_TABLES = {
  name: 'job_dispatcher',
  categories: ['execution'],
  // An execution's other events (started, results) cost no transaction here.
  types: [ExecutionQueued.type],
  entities: [DispatchedExecution],
  migrations: (schema: string) => [
    {
      version: 1,
      name: 'dispatched executions',
      sql: `CREATE TABLE ${schema}.dispatched_executions (
              execution_id text PRIMARY KEY,
              event_id uuid NOT NULL,
              campaign text NOT NULL,
              apply_id uuid NOT NULL,
              repository text NOT NULL,
              queued_at timestamptz NOT NULL
            )`,
    },
  ],
  tables: [{ name: 'dispatched_executions', key: ['execution_id'] }],
} satisfies Omit<ProjectionDefinition, 'handle'>;

/**
 * The projection behind the dispatcher: for each ExecutionQueued it publishes the job onto the
 * work queue (msgID = executionId, so JetStream drops a re-publish within its duplicate window)
 * inside the consumer's transaction, before the checkpoint commits. A crash between the PubAck
 * and the commit publishes again: at least once, and a duplicate job is harmless because a
 * worker skips an execution that already has its result. `dispatched_executions` records what
 * was published (for operators; nothing reads it to decide).
 */
export function jobDispatcherProjection(
  nats: NatsConnection,
  topology: EventsTopology,
): ProjectionDefinition {
  const jobs = jobsTopology(topology);
  const js = jetstream(nats);
  return {
    ...JOB_DISPATCHER_TABLES,
    async handle(events, { manager }) {
      const dispatched = manager.getRepository(DispatchedExecution);
      for (const event of events) {
        if (event.type !== ExecutionQueued.type) continue;
        const job = event.data as ExecutionJob;
        const h = headers();
        h.set(JOB_EVENT_ID_HEADER, event.event_id);
        await js.publish(jobs.subject, JSON.stringify(job), { msgID: job.executionId, headers: h });
        await dispatched
          .createQueryBuilder()
          .insert()
          .values({
            executionId: job.executionId,
            eventId: event.event_id,
            campaign: job.campaign,
            applyId: job.applyId,
            repository: job.workspace.repository,
            queuedAt: event.recorded_at,
          })
          .orIgnore()
          .execute();
      }
    },
  };
}

/**
 * The dispatcher's TypeORM migrations (its consumer's bookkeeping, then its table), in the
 * service's schema: built from its tables alone, since the service lists them before NATS is
 * connected.
 */
export function jobDispatcherMigrations(timestamp: number): MigrationClass[] {
  return projectionSqlMigrations(JOB_DISPATCHER_TABLES, EXECUTOR_SCHEMA, timestamp);
}

export interface JobDispatcherOptions {
  store: PostgresEventStore;
  /** A DataSource over executor_service, migrated (the dispatcher's table and checkpoints). */
  database: DataSource;
  nats: NatsConnection;
  topology: EventsTopology;
  logger?: EventsLogger;
  registry?: Registry;
}

/**
 * The dispatcher's projection with how its consumer runs: the jobs stream is made sure of before
 * it starts, and a job must not be dead-lettered because NATS was briefly away, so it retries
 * for a long time. Served as an `@EventPattern` by the service (JobDispatchController) and by
 * JobDispatcher in tests.
 */
export function jobDispatcherBinding(nats: NatsConnection, topology: EventsTopology) {
  return {
    projection: jobDispatcherProjection(nats, topology),
    consumer: { maxDeliveries: 1_000, retryBackoffMs: { initial: 500, max: 30_000 } },
    beforeStart: async () => ensureJobsStream(await jetstreamManager(nats), jobsTopology(topology)),
  };
}

/** The dispatcher on its own (tests): an exactly-once consumer of `execution-*` events that publishes jobs. */
export class JobDispatcher {
  readonly name = 'jobs:dispatcher';
  readonly #consumer: ProjectionConsumer;
  readonly #beforeStart: () => Promise<void>;

  constructor(options: JobDispatcherOptions) {
    const binding = jobDispatcherBinding(options.nats, options.topology);
    this.#beforeStart = binding.beforeStart;
    this.#consumer = new ProjectionConsumer({
      store: options.store,
      database: options.database,
      nats: options.nats,
      projection: binding.projection,
      schema: EXECUTOR_SCHEMA,
      topology: options.topology,
      ...binding.consumer,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.registry ? { registry: options.registry } : {}),
    });
  }

  async start(): Promise<void> {
    await this.#beforeStart();
    await this.#consumer.start();
  }

  stop(): Promise<void> {
    return this.#consumer.stop();
  }

  ready(): boolean {
    return this.#consumer.ready();
  }
}
