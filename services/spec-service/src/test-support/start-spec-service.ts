import {
  migrateDatabase,
  openDatabase,
  type EventsTopology,
  type PostgresEventStore,
} from '@campaigns/events';
import {
  createServiceLogger,
  loadServiceConfig,
  startServiceApplication,
  type ServiceApplication,
} from '@campaigns/service-kit';
import type { NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { createSpecService } from '../spec-service.definition.js';
import type { SpecServiceModuleOptions } from '../spec-service.module.js';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';

export interface TestSpecServiceOptions extends SpecServiceModuleOptions {
  store: PostgresEventStore;
  nats: NatsConnection;
  topology: EventsTopology;
  resolver: WorkspaceResolver;
  /** The database the service's DataSource opens; the store's pool's by default. */
  databaseUrl?: string;
}

/**
 * spec-service's Nest application as `bootstrapService` builds it — its module, its consumers
 * and its API over NATS — over the test's own NATS connection, store and topology, and a
 * DataSource of its own over the store's database, migrated as at startup. Closing the
 * application closes that DataSource too.
 */
export async function startSpecService(
  options: TestSpecServiceOptions,
): Promise<ServiceApplication> {
  const { store, nats, topology, databaseUrl, ...moduleOptions } = options;
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
  const url = databaseUrl ?? store.pool.options.connectionString;
  if (url === undefined)
    throw new Error('startSpecService: the store has no connection string; give databaseUrl');
  const database = await openDatabase({
    url,
    schema: definition.database.schema,
    applicationName: definition.name,
    entities: definition.database.entities,
    migrations: definition.database.migrations,
  });
  let application: ServiceApplication;
  try {
    await migrateDatabase(database);
    application = await startServiceApplication(
      definition,
      {
        service: definition.name,
        database,
        pool: store.pool,
        nats,
        eventStore: store,
        registry: new Registry(),
        logger: createServiceLogger(definition.name, 'silent'),
        config,
      },
      settings,
    );
  } catch (error) {
    await database.destroy();
    throw error;
  }
  return { ...application, close: () => closeBoth(application, database) };
}

/** The application first (its consumers use the DataSource until they stop), then that. */
async function closeBoth(application: ServiceApplication, database: DataSource): Promise<void> {
  try {
    await application.close();
  } finally {
    await database.destroy();
  }
}
