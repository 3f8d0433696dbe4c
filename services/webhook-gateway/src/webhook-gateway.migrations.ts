import type { Migration } from '@campaigns/events';

/**
 * webhook-gateway's schema changes, oldest first. DESIGN.md: a service owns one schema,
 * named after it, and writes nothing else but appends to the event store.
 */
export const webhookGatewayMigrations: readonly Migration[] = [
  { version: 1, name: 'create webhook_gateway schema', sql: 'CREATE SCHEMA webhook_gateway' },
];
