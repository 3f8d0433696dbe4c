import {
  ProjectionConsumer,
  type EventsLogger,
  type EventsTopology,
  type PostgresEventStore,
} from '@campaigns/events';
import type { NatsConnection } from '@nats-io/transport-node';
import { SpecApi } from './api/spec-api.js';
import { desiredStateProcessManager } from './desired-state/process-manager.js';
import { CampaignStatusQueries } from './status/campaign-status.js';
import { statusProjection } from './status/status-projection.js';
import type { WorkspaceResolver } from './workspaces/workspace-resolver.js';

/** spec-service's schema: its projections' tables and consumer bookkeeping live there. */
export const SPEC_SERVICE_SCHEMA = 'spec_service';

export interface SpecServiceComponentsOptions {
  store: PostgresEventStore;
  nats: NatsConnection;
  topology: EventsTopology;
  resolver: WorkspaceResolver;
  /** Metrics registry both consumers report to (labelled by consumer). */
  registry?: ConstructorParameters<typeof ProjectionConsumer>[0]['registry'];
  logger?: EventsLogger;
  /** Defaults to `spec_service`; tests may use their own. */
  schema?: string;
  /** Consumer tuning, for tests that want quick retries. */
  retryBackoffMs?: { initial: number; max: number };
}

export interface SpecServiceComponents {
  processManager: ProjectionConsumer;
  status: ProjectionConsumer;
  api: SpecApi;
  queries: CampaignStatusQueries;
  /** In start order: the consumers first (they create the tables the API reads). */
  all: [ProjectionConsumer, ProjectionConsumer, SpecApi];
}

/**
 * The spec-service's running parts: the desired-state process manager and the status projection
 * (both durable JetStream consumers) and the NATS request/reply API.
 */
export function specServiceComponents(
  options: SpecServiceComponentsOptions,
): SpecServiceComponents {
  const schema = options.schema ?? SPEC_SERVICE_SCHEMA;
  const common = {
    store: options.store,
    nats: options.nats,
    topology: options.topology,
    schema,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.retryBackoffMs ? { retryBackoffMs: options.retryBackoffMs } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
  };
  const processManager = new ProjectionConsumer({
    ...common,
    // One lane: a PatchComputed must be handled after the SpecApplied it belongs to (store order).
    concurrency: 1,
    projection: desiredStateProcessManager({
      store: options.store,
      resolver: options.resolver,
      ...(options.logger ? { logger: options.logger } : {}),
    }),
  });
  const status = new ProjectionConsumer({ ...common, projection: statusProjection() });
  const queries = new CampaignStatusQueries(options.store.pool, schema);
  const api = new SpecApi({
    nats: options.nats,
    store: options.store,
    topology: options.topology,
    resolver: options.resolver,
    queries,
    schema,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { processManager, status, api, queries, all: [processManager, status, api] };
}
