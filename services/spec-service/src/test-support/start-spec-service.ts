import type { EventsTopology, PostgresEventStore } from '@campaigns/events';
import {
  createServiceLogger,
  loadServiceConfig,
  startServiceApplication,
  type ServiceApplication,
} from '@campaigns/service-kit';
import type { NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { createSpecService } from '../spec-service.definition.js';
import type { SpecServiceModuleOptions } from '../spec-service.module.js';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';

export interface TestSpecServiceOptions extends SpecServiceModuleOptions {
  store: PostgresEventStore;
  nats: NatsConnection;
  topology: EventsTopology;
  resolver: WorkspaceResolver;
}

/**
 * spec-service's Nest application as `bootstrapService` builds it — its module, its consumers
 * and its API over NATS — over the test's own connections, store and topology.
 */
export async function startSpecService(
  options: TestSpecServiceOptions,
): Promise<ServiceApplication> {
  const { store, nats, topology, ...moduleOptions } = options;
  const definition = createSpecService({}, moduleOptions);
  const { settings } = await definition.configure!();
  const config = loadServiceConfig(
    {
      PORT: '0',
      EVENTS_STREAM: topology.streamName,
      EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
    },
    0,
  );
  return startServiceApplication(
    definition,
    {
      service: definition.name,
      pool: store.pool,
      nats,
      eventStore: store,
      registry: new Registry(),
      logger: createServiceLogger(definition.name, 'silent'),
      config,
    },
    settings,
  );
}
