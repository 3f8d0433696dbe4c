import type { EventCatalogue, Migration, PostgresEventStore } from '@campaigns/events';
import type { ModuleMetadata } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { ServiceConfig } from '../config/service-config.js';
import type { ServiceLogger } from '../logging/service-logger.js';

/**
 * A long-running part of a service (event relay, projection consumer, job worker). Started after
 * migrations and before the service reports ready; stopped, in reverse order, on shutdown.
 */
export interface ServiceComponent {
  /** Names the component in logs and in the readiness report (`component:<name>`). */
  readonly name: string;
  start(): Promise<void>;
  /** Stop taking new work and finish what is in flight. */
  stop(): Promise<void>;
  ready(): boolean | Promise<boolean>;
}

/** What components and the service's Nest providers are built from; one per process. */
export interface ServiceContext {
  readonly pool: pg.Pool;
  readonly nats: NatsConnection;
  /** The event store over `pool`, already migrated, validating with the service's catalogue. */
  readonly eventStore: PostgresEventStore;
  /** Served at /metrics; register component metrics here. */
  readonly registry: Registry;
  readonly logger: ServiceLogger;
  readonly config: ServiceConfig;
}

/** Everything `bootstrapService` needs to know about one service. */
export interface ServiceDefinition {
  /** kebab-case; names logs, metrics and migrations. Its schema is this name with underscores. */
  readonly name: string;
  /** The port used when PORT is not set. */
  readonly defaultPort: number;
  /** The service's own schema migrations; the first creates its schema. */
  readonly migrations: readonly Migration[];
  /** The event types this service appends and reads. */
  readonly catalogue: EventCatalogue;
  components(context: ServiceContext): ServiceComponent[];
  /**
   * Secret values (code host tokens, webhook secrets) the event store must refuse to record;
   * read once at startup.
   */
  secrets?(): Promise<readonly string[]> | readonly string[];
  /** Nest modules with the service's own HTTP controllers and providers, if any. */
  readonly imports?: ModuleMetadata['imports'];
  /** How request bodies are read (default: parsed JSON and urlencoded bodies up to 100 KiB). */
  readonly http?: {
    /** Keep each parsed body's exact bytes as `req.rawBody` (a Buffer), e.g. for webhook signatures. */
    readonly rawBody?: boolean;
    /** Largest JSON or urlencoded body, in bytes; a larger one is answered 413. */
    readonly bodyLimitBytes?: number;
  };
}
