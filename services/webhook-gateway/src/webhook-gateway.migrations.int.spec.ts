import { afterEach, describe, expect, it } from '@jest/globals';
import {
  migrateDatabase,
  openDatabase,
  ProjectionCheckpoint,
  projectionMigrations,
  runMigrations,
} from '@campaigns/events';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import type { DataSource } from 'typeorm';
import { RecordedDelivery } from './recorded-delivery.entity.js';
import { TrackedPullRequestEntity } from './tracked-pull-request.entity.js';
import { trackedPullRequestsProjection } from './tracked-pull-requests.projection.js';
import { webhookGatewayDefinition } from './webhook-gateway.definition.js';
import { webhookGatewayMigrations } from './webhook-gateway.migrations.js';
import { WEBHOOK_GATEWAY_SCHEMA } from './webhook-recorder.js';

const { database: tables } = webhookGatewayDefinition();
const names = tables.migrations.map((m) => new m().name);

describe("webhook-gateway's TypeORM migrations", () => {
  let db: TestDatabase | undefined;
  const open: DataSource[] = [];
  afterEach(async () => {
    for (const d of open.splice(0)) await d.destroy();
    await db?.drop();
    db = undefined;
  });
  const database = async (url: string) => {
    const d = await openDatabase({
      url,
      schema: tables.schema,
      applicationName: 'webhook-gateway migrations test',
      entities: tables.entities,
      migrations: tables.migrations,
    });
    open.push(d);
    return d;
  };

  it('adopts a database the old runner migrated: every migration recorded, none run again, the rows kept', async () => {
    db = await createTestDatabase('gateway_adopt');
    // What the old runner did: the service's list at startup, the projection's when its consumer started.
    await runMigrations(db.pool, 'webhook-gateway', webhookGatewayMigrations);
    await runMigrations(
      db.pool,
      `${WEBHOOK_GATEWAY_SCHEMA}.tracked_pull_requests`,
      projectionMigrations(trackedPullRequestsProjection, WEBHOOK_GATEWAY_SCHEMA),
    );
    await db.pool.query(
      `INSERT INTO webhook_gateway.deliveries (delivery_id, event, action, repository, changeset_ids, received_at)
       VALUES ('d-1', 'pull_request', NULL, 'github.com/acme/api', '{cs-1}', '2026-01-02T03:04:05Z')`,
    );
    await db.pool.query(
      `INSERT INTO webhook_gateway.tracked_pull_requests
         (repository, number, changeset_id, campaign, head_branch, head_ref_oid, url, title, state, draft)
       VALUES ('github.com/acme/api', 7, 'cs-1', 'hello', 'hello', NULL, NULL, 'Hello', 'open', false)`,
    );
    await db.pool.query(
      `INSERT INTO webhook_gateway.projection_checkpoints VALUES ('tracked_pull_requests', 'changeset-cs-1', 3)`,
    );

    const d = await database(db.url);
    // Each is recorded; had one run again, its CREATE TABLE would have failed.
    expect(await migrateDatabase(d)).toEqual(names);
    const recorded = await db.pool.query<{ name: string }>(
      'SELECT name FROM webhook_gateway.typeorm_migrations ORDER BY id',
    );
    expect(recorded.rows.map((r) => r.name)).toEqual(names);
    expect(await migrateDatabase(d)).toEqual([]);

    // The rows survived, read through the entities.
    expect(await d.getRepository(RecordedDelivery).find()).toEqual([
      {
        deliveryId: 'd-1',
        event: 'pull_request',
        action: null,
        repository: 'github.com/acme/api',
        changesetIds: ['cs-1'],
        receivedAt: new Date('2026-01-02T03:04:05Z'),
      },
    ]);
    expect(await d.getRepository(TrackedPullRequestEntity).find()).toEqual([
      {
        repository: 'github.com/acme/api',
        number: 7,
        changesetId: 'cs-1',
        campaign: 'hello',
        headBranch: 'hello',
        headRefOid: null,
        url: null,
        title: 'Hello',
        state: 'open',
        draft: false,
      },
    ]);
    expect(await d.getRepository(ProjectionCheckpoint).find()).toEqual([
      { projection: 'tracked_pull_requests', streamId: 'changeset-cs-1', streamVersion: '3' },
    ]);
  });

  it('lets two instances open and migrate a fresh database at once: the schema made once, each migration run once', async () => {
    db = await createTestDatabase('gateway_race');
    const url = db.url;
    const [a, b] = await Promise.all([database(url), database(url)]);
    const applied = await Promise.all([migrateDatabase(a), migrateDatabase(b)]);
    expect(applied.map((n) => n.length).sort((x, y) => x - y)).toEqual([0, names.length]);
    expect(applied.flat()).toEqual(names);
    const recorded = await db.pool.query<{ name: string }>(
      'SELECT name FROM webhook_gateway.typeorm_migrations ORDER BY id',
    );
    expect(recorded.rows.map((r) => r.name)).toEqual(names);
    const created = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'webhook_gateway' ORDER BY 1`,
    );
    expect(created.rows.map((r) => r.table_name)).toEqual([
      'commit_checks',
      'dead_letters',
      'deliveries',
      'parked_deliveries',
      'projection_checkpoints',
      'pull_request_reviews',
      'pull_request_versions',
      'tracked_pull_requests',
      'typeorm_migrations',
    ]);
  });
});
