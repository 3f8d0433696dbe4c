import type {
  EntityClass,
  EventCatalogue,
  MigrationClass,
  PostgresEventStore,
} from '@campaigns/events';
import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { ServiceConfig } from '../config/service-config.js';
import type { ServiceLogger } from '../logging/service-logger.js';

/**
 * A long-running part of a service (event relay, projection consumer, job worker). The service's
 * module provides its components under SERVICE_COMPONENTS (see `provideComponents`); the kit's
 * ServiceLifecycle starts them in that order when the Nest application bootstraps (after the
 * migrations, before the service reports ready) and stops them in reverse before it shuts down.
 */
export interface ServiceComponent {
  /** Names the component in logs and in the readiness report (`component:<name>`). */
  readonly name: string;
  start(): Promise<void>;
  /** Stop taking new work and finish what is in flight. */
  stop(): Promise<void>;
  ready(): boolean | Promise<boolean>;
}

/** The connections and shared parts of one service process, injectable as SERVICE_CONTEXT. */
export interface ServiceContext {
  /** The service's name (its definition's). */
  readonly service: string;
  /**
   * The service's TypeORM DataSource over its schema (its repositories are also injectable with
   * `@InjectRepository`). Opened and migrated before the application starts; outlives it.
   */
  readonly database: DataSource;
  /** The DataSource's pg pool, which the event store works through. */
  readonly pool: pg.Pool;
  readonly nats: NatsConnection;
  /** The event store over `pool`, already migrated, validating with the service's catalogue. */
  readonly eventStore: PostgresEventStore;
  /** Served at /metrics; register component metrics here. */
  readonly registry: Registry;
  readonly logger: ServiceLogger;
  readonly config: ServiceConfig;
}

/** What `configure` read: the service's own settings and the secrets they hold. */
export interface ConfiguredService<S = unknown> {
  /** Injected as SERVICE_SETTINGS into the service's providers. */
  readonly settings: S;
  /** Secret values (code host tokens, webhook secrets) the event store must refuse to record. */
  readonly secrets: readonly string[];
}

/** Everything `bootstrapService` needs to know about one service. */
export interface ServiceDefinition<S = unknown> {
  /** kebab-case; names logs, metrics and migrations. Its schema is this name with underscores. */
  readonly name: string;
  /** The port used when PORT is not set. */
  readonly defaultPort: number;
  /**
   * The tables the service owns, through TypeORM: its schema (its connections search it), the
   * entities of every table in it, and the TypeORM migrations that create them, run at startup
   * under an advisory lock (see `migrateDatabase`).
   */
  readonly database: {
    readonly schema: string;
    readonly entities: readonly EntityClass[];
    readonly migrations: readonly MigrationClass[];
  };
  /** The event types this service appends and reads. */
  readonly catalogue: EventCatalogue;
  /**
   * Reads and checks the service's own configuration (the Campaigns config, its environment
   * variables) once, before anything connects: a thrown error stops startup with one line.
   */
  configure?(): Promise<ConfiguredService<S>> | ConfiguredService<S>;
  /**
   * The service's feature modules: its controllers, its providers (which may inject
   * SERVICE_CONTEXT, SERVICE_SETTINGS and the prom-client Registry), and its components under
   * SERVICE_COMPONENTS, exported.
   */
  readonly imports?: ModuleMetadata['imports'];
  /**
   * Serve the `@MessagePattern` handlers of the service's controllers over NATS request/reply
   * (NatsRequestServer), in this queue group, each pattern on `subjectOf(pattern)`.
   */
  readonly requests?: {
    readonly queue: string;
    readonly subjectOf?: (pattern: string, events: ServiceConfig['events']) => string;
  };
  /**
   * Project the event log through the `@EventPattern` handlers of the service's controllers
   * (JetStreamEventServer), each a durable consumer writing into the service's schema.
   */
  readonly events?: boolean;
  /** How request bodies are read (default: parsed JSON and urlencoded bodies up to 100 KiB). */
  readonly http?: {
    /**
     * Parse no body: keep each one's exact bytes as `req.rawBody` (a Buffer), e.g. so a webhook's
     * signature is checked over what was sent before anything trusts or parses it.
     */
    readonly rawBody?: boolean;
    /** Largest body, in bytes; a larger one is answered 413. */
    readonly bodyLimitBytes?: number;
    /** A request's headers must arrive within this (default 10 s): else 408. */
    readonly headersTimeoutMs?: number;
    /** Its body must arrive within this once the headers have (default 20 s): else 408. */
    readonly bodyTimeoutMs?: number;
  };
}

/** Injection token of the ServiceContext: `@Inject(SERVICE_CONTEXT) context: ServiceContext`. */
export const SERVICE_CONTEXT = Symbol('ServiceContext');
/** Injection token of what the definition's `configure` returned as `settings`. */
export const SERVICE_SETTINGS = Symbol('ServiceSettings');
/** Injection token of the service's components, in start order. */
export const SERVICE_COMPONENTS = Symbol('ServiceComponents');

/**
 * The provider of a service's components: built by Nest from `inject`, started in array order
 * at bootstrap, stopped in reverse at shutdown. Export SERVICE_COMPONENTS from the module.
 */
export function provideComponents(
  useFactory: (...deps: never[]) => ServiceComponent[],
  inject: (InjectionToken | OptionalFactoryDependency)[] = [],
) {
  return { provide: SERVICE_COMPONENTS, useFactory, inject };
}
