import { EventCatalogue } from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { executorServiceMigrations } from './executor-service.migrations.js';

/**
 * executor-service runs campaign steps in containers and produces patches (DESIGN.md). That logic
 * and its components arrive with later issues; for now the service migrates its schema and
 * serves its probes.
 */
export const executorService: ServiceDefinition = {
  name: 'executor-service',
  defaultPort: 3102,
  migrations: executorServiceMigrations,
  catalogue: new EventCatalogue([]),
  components: () => [],
};
