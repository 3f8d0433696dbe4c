import {
  ProjectionConsumer,
  type ProjectionConsumerOptions,
  type ProjectionContext,
  type ProjectionDefinition,
  type StoredEvent,
} from '@campaigns/events';
import type { InjectionToken } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { Readiness } from '../readiness/readiness.js';
import type { ServiceContext } from '../service/service-definition.js';

/**
 * What an `@EventPattern(name, { binding: TOKEN })` handler projects, provided under TOKEN: the
 * projection (its categories, types, migrations, tables and optional `prepare`; its own
 * `handle` is what replay runs) and how its durable consumer is tuned. The handler is called
 * with a ProjectionBatch (`@Payload()`) in place of the definition's `handle`.
 */
export interface ProjectionBinding {
  readonly projection: ProjectionDefinition;
  /** Runs before the consumer starts (e.g. creating a stream its handler publishes to). */
  readonly beforeStart?: () => Promise<void>;
  readonly consumer?: Pick<
    ProjectionConsumerOptions,
    'concurrency' | 'batchSize' | 'maxDeliveries' | 'retryBackoffMs' | 'ackWaitMs'
  >;
}

/** What a projection's `@EventPattern` handler gets: the events and the consumer's transaction. */
export interface ProjectionBatch {
  /** Deduplicated, in stream order. */
  readonly events: readonly StoredEvent[];
  /** Write in `context.tx`, to `${context.schema}` tables. */
  readonly context: ProjectionContext;
}

/**
 * The payload type of every projection pattern, for Nest's typed `@EventPattern`:
 * `@EventPattern<ProjectionEvents>(name, { binding })`.
 */
export type ProjectionEvents = Record<string, ProjectionBatch>;

/** The extras of a projection's `@EventPattern`: the injection token of its ProjectionBinding. */
export interface ProjectionPatternExtras {
  readonly binding: InjectionToken;
}

export interface JetStreamEventServerOptions {
  readonly context: ServiceContext;
  /** The service's schema: each projection's tables and its consumer's bookkeeping live there. */
  readonly schema: string;
  readonly readiness: Readiness;
  /** Resolves a binding's token among the application's providers. */
  readonly resolve: (token: InjectionToken) => ProjectionBinding;
}

/**
 * A Nest transport strategy for the event log: each `@EventPattern` handler of the service's
 * controllers is served by a durable JetStream pull consumer of libs/events (ProjectionConsumer),
 * which keeps every guarantee it has — the handler's writes and the per-stream checkpoint in one
 * transaction, ack after commit, nak with backoff, dead letters, per-stream order, gaps filled
 * from the store. A handler that throws (or whose Observable errors) rolls its batch back.
 *
 * Consumers start in the order the handlers are declared and stop in reverse.
 */
export class JetStreamEventServer extends Server implements CustomTransportStrategy {
  private consumers: ProjectionConsumer[] = [];

  constructor(private readonly options: JetStreamEventServerOptions) {
    super();
  }

  async listen(callback: (...optionalParams: unknown[]) => void): Promise<void> {
    try {
      const starts: (() => Promise<void>)[] = [];
      for (const [pattern, handler] of this.messageHandlers) {
        if (!handler.isEventHandler) continue;
        const { consumer, beforeStart } = this.consumerFor(pattern, handler);
        this.options.readiness.add(`component:${consumer.name}`, () => consumer.ready());
        this.consumers.push(consumer);
        starts.push(async () => {
          await beforeStart?.();
          await consumer.start();
        });
      }
      for (const start of starts) await start();
    } catch (error) {
      callback(error);
      return;
    }
    callback();
  }

  async close(): Promise<void> {
    for (const consumer of [...this.consumers].reverse()) await consumer.stop();
    this.consumers = [];
  }

  on(): never {
    throw new Error('JetStreamEventServer has no events to listen to; see the consumers');
  }

  unwrap<T>(): T {
    return this.consumers as T;
  }

  private consumerFor(
    pattern: string,
    handler: MessageHandler,
  ): { consumer: ProjectionConsumer; beforeStart: ProjectionBinding['beforeStart'] } {
    const token = (handler.extras as Partial<ProjectionPatternExtras> | undefined)?.binding;
    if (token === undefined)
      throw new Error(
        `@EventPattern('${pattern}') needs { binding } extras: a ProjectionBinding token`,
      );
    const { projection, consumer, beforeStart } = this.options.resolve(token);
    if (projection.name !== pattern)
      throw new Error(
        `@EventPattern('${pattern}') is bound to the projection ${projection.name}; name them alike`,
      );
    const { eventStore, nats, config, logger, registry } = this.options.context;
    const projectionConsumer = new ProjectionConsumer({
      store: eventStore,
      database: this.options.context.database,
      nats,
      topology: config.events,
      schema: this.options.schema,
      logger,
      registry,
      ...consumer,
      projection: {
        ...projection,
        handle: async (events: readonly StoredEvent[], context: ProjectionContext) => {
          const batch: ProjectionBatch = { events, context };
          const result = this.transformToObservable(await handler(batch));
          await lastValueFrom(result, { defaultValue: undefined });
        },
      },
    });
    return { consumer: projectionConsumer, beforeStart };
  }
}
