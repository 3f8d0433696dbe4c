import { EventCatalogue } from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { reconcilerServiceMigrations } from './reconciler-service.migrations.js';

/**
 * reconciler-service keeps the actual-state projection and converges code hosts toward the
 * desired state (DESIGN.md). That logic and its components arrive with later issues; for now the
 * service migrates its schema and serves its probes.
 */
export const reconcilerService: ServiceDefinition = {
  name: 'reconciler-service',
  defaultPort: 3103,
  migrations: reconcilerServiceMigrations,
  catalogue: new EventCatalogue([]),
  components: () => [],
};
