import { EventCatalogue } from '@campaigns/events';
import type { ServiceDefinition } from '@campaigns/service-kit';
import { webhookGatewayMigrations } from './webhook-gateway.migrations.js';

/**
 * webhook-gateway verifies and records code host webhooks (DESIGN.md). That logic arrives with
 * later issues; for now the service migrates its schema and serves its probes.
 */
export const webhookGateway: ServiceDefinition = {
  name: 'webhook-gateway',
  defaultPort: 3104,
  migrations: webhookGatewayMigrations,
  catalogue: new EventCatalogue([]),
  components: () => [],
};
