import { CONSUMER_ENTITIES, projectionSqlMigrations, sqlMigrations } from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { PROCESS_MANAGER_ENTITIES } from './desired-state/desired-state-store.js';
import { DESIRED_STATE_TABLES } from './desired-state/process-manager.js';
import { identityMigrations } from './identity/identity.migrations.js';
import { specServiceMigrations } from './spec-service.migrations.js';
import { STATUS_ENTITIES } from './status/status-store.js';
import { statusProjection } from './status/status-projection.js';
import { IndexedRepositoryRecord } from './workspaces/indexed-repository.entity.js';
import { RepositoryIndexRefresh } from './workspaces/repository-index-refresh.entity.js';
import {
  REPOSITORY_INDEX_COMPONENT,
  repositoryIndexMigrations,
} from './workspaces/repository-index.migrations.js';

/** spec-service's schema: its projections' tables and consumer bookkeeping live there. */
export const SPEC_SERVICE_SCHEMA = 'spec_service';

// Where each group of migrations sits among the service's: TypeORM knows a migration by its name,
// which these are part of, so they never change.
const OWN_MIGRATIONS_AT = 1764806400000;
const REPOSITORY_INDEX_MIGRATIONS_AT = 1764806401000;
const DESIRED_STATE_MIGRATIONS_AT = 1764806402000;
const STATUS_MIGRATIONS_AT = 1764806403000;
const IDENTITY_MIGRATIONS_AT = 1764806404000;

/** Every table spec-service owns. */
export const SPEC_SERVICE_ENTITIES = [
  ...CONSUMER_ENTITIES,
  ...PROCESS_MANAGER_ENTITIES,
  ...STATUS_ENTITIES,
  IndexedRepositoryRecord,
  RepositoryIndexRefresh,
] as const;

/**
 * spec-service's tables: its schema, their entities, and the migrations that create them, run at
 * startup. Migrations today's runner applied are adopted under its component names: the
 * service's own ('spec-service'), the repository index's and each projection's (`schema.name`).
 *
 * The repository index's DDL names `spec_service`: a service in another schema (a test's, which
 * brings its own resolver) has no index, rather than a second copy of its migrations recorded
 * apart from the first, which would fail on the tables the first created.
 */
export function specServiceDatabase(
  schema: string = SPEC_SERVICE_SCHEMA,
): ServiceDefinition['database'] {
  return {
    schema,
    entities: SPEC_SERVICE_ENTITIES,
    migrations: [
      ...sqlMigrations({
        component: 'spec-service',
        timestamp: OWN_MIGRATIONS_AT,
        migrations: specServiceMigrations,
      }),
      ...(schema === SPEC_SERVICE_SCHEMA
        ? sqlMigrations({
            component: REPOSITORY_INDEX_COMPONENT,
            timestamp: REPOSITORY_INDEX_MIGRATIONS_AT,
            migrations: repositoryIndexMigrations,
          })
        : []),
      ...projectionSqlMigrations(DESIRED_STATE_TABLES, schema, DESIRED_STATE_MIGRATIONS_AT),
      ...projectionSqlMigrations(statusProjection(), schema, STATUS_MIGRATIONS_AT),
      ...sqlMigrations({
        component: `${schema}.identity`,
        timestamp: IDENTITY_MIGRATIONS_AT,
        migrations: identityMigrations(schema),
      }),
    ],
  };
}
