import type { Migration } from '@campaigns/events';

/**
 * webhook-gateway's schema changes, oldest first. DESIGN.md: a service owns one schema,
 * named after it, and writes nothing else but appends to the event store. The projection of
 * tracked pull requests keeps its own migrations (tracked-pull-requests.projection.ts).
 */
export const webhookGatewayMigrations: readonly Migration[] = [
  // IF NOT EXISTS: the service's DataSource creates its schema before it migrates.
  {
    version: 1,
    name: 'create webhook_gateway schema',
    sql: 'CREATE SCHEMA IF NOT EXISTS webhook_gateway',
  },
  {
    version: 2,
    name: 'recorded webhook deliveries',
    // One row per X-GitHub-Delivery whose observations were appended, in the same transaction:
    // a redelivery finds its row and records nothing. A delivery that only echoed what the
    // events already said has a row with no changeset ids (webhook-recorder.ts).
    sql: `
CREATE TABLE webhook_gateway.deliveries (
  delivery_id text PRIMARY KEY,
  event text NOT NULL,
  action text,
  repository text NOT NULL,
  changeset_ids text[] NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
)`,
  },
];
