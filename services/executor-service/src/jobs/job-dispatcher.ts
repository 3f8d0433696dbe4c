import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  ExecutionQueued,
  jobsTopology,
  ProjectionConsumer,
  type EventsLogger,
  type EventsTopology,
  type ExecutionJob,
  type PostgresEventStore,
  type ProjectionDefinition,
} from '@campaigns/events';
import type { Registry } from 'prom-client';
import { ensureJobsStream } from './jobs-stream.js';

/** Header naming the ExecutionQueued event a job message stands for (its causation). */
export const JOB_EVENT_ID_HEADER = 'Campaigns-Event-Id';

export const EXECUTOR_SCHEMA = 'executor_service';

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
    name: 'job_dispatcher',
    categories: ['execution'],
    // An execution's other events (started, results) cost no transaction here.
    types: [ExecutionQueued.type],
    migrations: (schema) => [
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
    async handle(events, { tx, schema }) {
      for (const event of events) {
        if (event.type !== ExecutionQueued.type) continue;
        const job = event.data as ExecutionJob;
        const h = headers();
        h.set(JOB_EVENT_ID_HEADER, event.event_id);
        await js.publish(jobs.subject, JSON.stringify(job), { msgID: job.executionId, headers: h });
        await tx.query(
          `INSERT INTO ${schema}.dispatched_executions
             (execution_id, event_id, campaign, apply_id, repository, queued_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (execution_id) DO NOTHING`,
          [
            job.executionId,
            event.event_id,
            job.campaign,
            job.applyId,
            job.workspace.repository,
            event.recorded_at,
          ],
        );
      }
    },
  };
}

export interface JobDispatcherOptions {
  store: PostgresEventStore;
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
