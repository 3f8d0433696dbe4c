// The tables reconciler-service owns, as TypeORM sees them. Free of NestJS, so a worker run as
// its own process (test-support/worker-process.ts) can open the same DataSource.
import { CONSUMER_ENTITIES, projectionSqlMigrations, sqlMigrations } from '@campaigns/events';
// Types only: erased, so NestJS is not loaded.
import type { ServiceDefinition } from '@campaigns/service-kit';
import { BULK_JOB_ENTITIES, bulkJobsProjection } from './bulk/bulk-jobs.projection.js';
import { CHANGESET_ENTITIES, changesetProjection } from './projection/changeset-projection.js';
import { reconcilerServiceMigrations } from './reconciler-service.migrations.js';
import { PublicationLedgerEntry } from './rollout/publication-ledger.js';
import { RECONCILER_SCHEMA } from './reconciler-settings.js';

/**
 * The service's schema, its entities and its migrations: its own list, then the changeset
 * projection's, then the bulk jobs projection's. The timestamps name the migrations TypeORM records: never change them.
 */
export const reconcilerDatabase: ServiceDefinition['database'] = {
  schema: RECONCILER_SCHEMA,
  entities: [
    ...CONSUMER_ENTITIES,
    ...CHANGESET_ENTITIES,
    ...BULK_JOB_ENTITIES,
    PublicationLedgerEntry,
  ],
  migrations: [
    ...sqlMigrations({
      component: 'reconciler-service',
      timestamp: 1764806500000,
      migrations: reconcilerServiceMigrations,
    }),
    ...projectionSqlMigrations(changesetProjection(), RECONCILER_SCHEMA, 1764806501000),
    ...projectionSqlMigrations(bulkJobsProjection(), RECONCILER_SCHEMA, 1765000000000),
  ],
};
