import { EventCatalogue } from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { specServiceMigrations } from './spec-service.migrations.js';

/**
 * spec-service applies and previews campaign specs, answers queries about them, resolves
 * repositories and computes the desired state (DESIGN.md). That logic and its components arrive
 * with later issues; for now the service migrates its schema and serves its probes.
 */
export const specService: ServiceDefinition = {
  name: 'spec-service',
  defaultPort: 3101,
  migrations: specServiceMigrations,
  catalogue: new EventCatalogue([]),
  components: () => [],
};
