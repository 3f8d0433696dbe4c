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
  {
    version: 3,
    name: 'what deliveries reported, to order them, roll checks up and hold early ones',
    // The recorder's own memory (webhook-recorder.ts), written with the events it appends:
    // - pull_request_versions: the newest pull request state recorded (its updated_at, head and
    //   the head it replaced), so an older delivery arriving later changes nothing;
    // - pull_request_reviews: each reviewer's latest decisive review, for the review decision;
    // - commit_checks: the latest report of each status context, check run and check suite of a
    //   commit, for the checks rollup;
    // - parked_deliveries: deliveries about a pull request no changeset tracks yet (its
    //   ChangesetPublished not projected), recorded once it is, or dropped when they expire.
    sql: `
CREATE TABLE webhook_gateway.pull_request_versions (
  repository text NOT NULL,
  number integer NOT NULL,
  updated_at timestamptz NOT NULL,
  head_ref_oid text,
  replaced_head text,
  PRIMARY KEY (repository, number)
);
CREATE TABLE webhook_gateway.pull_request_reviews (
  repository text NOT NULL,
  number integer NOT NULL,
  reviewer text NOT NULL,
  state text NOT NULL,
  report_order double precision[] NOT NULL,
  PRIMARY KEY (repository, number, reviewer)
);
CREATE TABLE webhook_gateway.commit_checks (
  repository text NOT NULL,
  head_sha text NOT NULL,
  kind text NOT NULL,
  name text NOT NULL,
  suite_id bigint,
  state text NOT NULL,
  report_order double precision[] NOT NULL,
  PRIMARY KEY (repository, head_sha, kind, name)
);
CREATE TABLE webhook_gateway.parked_deliveries (
  delivery_id text PRIMARY KEY,
  repository text NOT NULL,
  number integer,
  head_sha text,
  item jsonb NOT NULL,
  parked_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX parked_deliveries_number ON webhook_gateway.parked_deliveries (repository, number);
CREATE INDEX parked_deliveries_head ON webhook_gateway.parked_deliveries (repository, head_sha);
CREATE INDEX parked_deliveries_expires ON webhook_gateway.parked_deliveries (expires_at)`,
  },
];
