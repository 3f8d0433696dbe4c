import { afterEach, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  migrateDatabase,
  openDatabase,
  ProjectionCheckpoint,
  projectionMigrations,
  runMigrations,
} from '@campaigns/events';
import {
  connectTestNats,
  createTestDatabase,
  uniqueTopology,
  type TestDatabase,
} from '@campaigns/events/testing';
import type { DataSource } from 'typeorm';
import { StepCacheEntry } from './execution/step-cache.entity.js';
import { StepCache, type CachedPatch } from './execution/step-cache.js';
import { createExecutorService } from './executor-service.definition.js';
import { executorServiceMigrations } from './executor-service.migrations.js';
import { DispatchedExecution } from './jobs/dispatched-execution.entity.js';
import { EXECUTOR_SCHEMA, jobDispatcherProjection } from './jobs/job-dispatcher.js';

const { database: tables } = createExecutorService();
const names = tables.migrations.map((m) => new m().name);
const KEY = 'a'.repeat(64);
const EVENT_ID = '00000000-0000-4000-8000-000000000001';
const APPLY_ID = '00000000-0000-4000-8000-000000000002';
const patch = (empty: boolean): CachedPatch => ({
  empty,
  diff: null,
  results: { sha256: 'b'.repeat(64), size: 2 },
  files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
  steps: [{ stepIndex: 0, skipped: false, exitCode: 0, durationMs: 5 }],
});

describe("executor-service's TypeORM migrations", () => {
  let db: TestDatabase | undefined;
  let nats: NatsConnection | undefined;
  const open: DataSource[] = [];
  afterEach(async () => {
    for (const d of open.splice(0)) await d.destroy();
    await nats?.close();
    nats = undefined;
    await db?.drop();
    db = undefined;
  });
  const database = async (url: string) => {
    const d = await openDatabase({
      url,
      schema: tables.schema,
      applicationName: 'executor-service migrations test',
      entities: tables.entities,
      migrations: tables.migrations,
    });
    open.push(d);
    return d;
  };

  it('adopts a database the old runner migrated: every migration recorded, none run again, the rows kept', async () => {
    db = await createTestDatabase('executor_adopt');
    nats = await connectTestNats();
    // What the old runner did: the service's list at startup, the dispatcher's when its consumer started.
    await runMigrations(db.pool, 'executor-service', executorServiceMigrations);
    await runMigrations(
      db.pool,
      `${EXECUTOR_SCHEMA}.job_dispatcher`,
      projectionMigrations(jobDispatcherProjection(nats, uniqueTopology()), EXECUTOR_SCHEMA),
    );
    await db.pool.query('INSERT INTO executor_service.step_cache (key, value) VALUES ($1, $2)', [
      KEY,
      JSON.stringify(patch(true)),
    ]);
    await db.pool.query(
      `INSERT INTO executor_service.dispatched_executions VALUES ($1, $2, $3, $4, $5, $6)`,
      ['e-1', EVENT_ID, 'c', APPLY_ID, 'r', new Date('2026-01-02T03:04:05Z')],
    );
    await db.pool.query(
      `INSERT INTO executor_service.projection_checkpoints VALUES ('job_dispatcher', 'execution-e-1', 1)`,
    );

    const d = await database(db.url);
    // Each is recorded; had one run again, its CREATE TABLE would have failed.
    expect(await migrateDatabase(d)).toEqual(names);
    const recorded = await db.pool.query<{ name: string }>(
      'SELECT name FROM executor_service.typeorm_migrations ORDER BY id',
    );
    expect(recorded.rows.map((r) => r.name)).toEqual(names);
    expect(await migrateDatabase(d)).toEqual([]);

    // The rows survived, read through the entities.
    expect(await d.getRepository(StepCacheEntry).find()).toEqual([
      { key: KEY, value: patch(true), storedAt: expect.any(Date) },
    ]);
    expect(await d.getRepository(DispatchedExecution).find()).toEqual([
      {
        executionId: 'e-1',
        eventId: EVENT_ID,
        campaign: 'c',
        applyId: APPLY_ID,
        repository: 'r',
        queuedAt: new Date('2026-01-02T03:04:05Z'),
      },
    ]);
    expect(await d.getRepository(ProjectionCheckpoint).find()).toEqual([
      { projection: 'job_dispatcher', streamId: 'execution-e-1', streamVersion: '1' },
    ]);
  });

  it('lets two instances open and migrate a fresh database at once: the schema made once, each migration run once', async () => {
    db = await createTestDatabase('executor_race');
    const url = db.url;
    const [a, b] = await Promise.all([database(url), database(url)]);
    const applied = await Promise.all([migrateDatabase(a), migrateDatabase(b)]);
    expect(applied.map((n) => n.length).sort((x, y) => x - y)).toEqual([0, names.length]);
    expect(applied.flat()).toEqual(names);
    const recorded = await db.pool.query<{ name: string }>(
      'SELECT name FROM executor_service.typeorm_migrations ORDER BY id',
    );
    expect(recorded.rows.map((r) => r.name)).toEqual(names);
    const created = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'executor_service' ORDER BY 1`,
    );
    expect(created.rows.map((r) => r.table_name)).toEqual([
      'dead_letters',
      'dispatched_executions',
      'projection_checkpoints',
      'step_cache',
      'typeorm_migrations',
    ]);

    // The step cache over the migrated table: an upsert replaces the entry and stamps it anew.
    const cache = new StepCache(a.getRepository(StepCacheEntry));
    expect(await cache.get(KEY)).toBeNull();
    await cache.put(KEY, patch(true));
    expect(await cache.get(KEY)).toEqual(patch(true));
    await db.pool.query(`UPDATE executor_service.step_cache SET stored_at = '2000-01-01Z'`);
    await cache.put(KEY, patch(false));
    expect(await cache.get(KEY)).toEqual(patch(false));
    const entry = await a.getRepository(StepCacheEntry).findOneByOrFail({ key: KEY });
    expect(entry.storedAt.getTime()).toBeGreaterThan(Date.parse('2000-01-02Z'));
  });
});
