import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CONSUMER_ENTITIES,
  ConsumerDeadLettered,
  EventCatalogue,
  pollUntil,
  projectionSqlMigrations,
} from '@campaigns/events';
import {
  CounterRow,
  counterProjection,
  CounterIncremented,
  CounterOpened,
  createTestDatabase,
  eventually,
  NoteAttached,
  testMetadata,
  type TestDatabase,
} from '@campaigns/events/testing';
import { Controller, Inject, Module, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { loadServiceConfig } from '../config/service-config.js';
import { startService, type StartedService } from '../service/start-service.js';
import { capturedLogger } from '../test-support/captured-logs.js';
import { deleteEventsStream, uniqueEventsEnv } from '../test-support/unique-events-env.js';
import { EventErrorFilter } from './event-error.filter.js';
import type {
  ProjectionBatch,
  ProjectionBinding,
  ProjectionEvents,
} from './jetstream-event.server.js';

const COUNTERS = Symbol('Counters');
const SCHEMA = 'kit_events';
/** Batches the handler saw, by the labels of their CounterOpened events. */
const seen: string[][] = [];

@Controller()
@UseFilters(EventErrorFilter)
class CountersController {
  constructor(@Inject(COUNTERS) private readonly counters: ProjectionBinding) {}

  @EventPattern<ProjectionEvents>('counters', { binding: COUNTERS })
  counterEvents(@Payload() { events, context }: ProjectionBatch): Promise<void> {
    seen.push(events.map((e) => String((e.data as { label?: string }).label ?? e.type)));
    return this.counters.projection.handle(events, context);
  }
}

@Module({
  controllers: [CountersController],
  providers: [
    {
      provide: COUNTERS,
      useValue: {
        projection: counterProjection({
          fail: (e) => (e.data as { label?: string }).label === 'poison',
        }),
        consumer: { maxDeliveries: 2, retryBackoffMs: { initial: 10, max: 20 } },
      } satisfies ProjectionBinding,
    },
  ],
})
class CountersModule {}

describe('JetStreamEventServer: @EventPattern handlers as durable projection consumers', () => {
  const events = uniqueEventsEnv();
  let db: TestDatabase;
  let service: StartedService;

  beforeAll(async () => {
    db = await createTestDatabase('kit_events');
    const { logger } = capturedLogger('kit-events');
    service = await startService(
      {
        name: 'kit-events',
        defaultPort: 0,
        database: {
          schema: SCHEMA,
          entities: [...CONSUMER_ENTITIES, CounterRow],
          migrations: projectionSqlMigrations(counterProjection(), SCHEMA, 1_764_806_900_000),
        },
        catalogue: new EventCatalogue([
          CounterOpened,
          CounterIncremented,
          NoteAttached,
          ConsumerDeadLettered,
        ]),
        imports: [CountersModule],
        events: true,
      },
      loadServiceConfig({ DATABASE_URL: db.url, PORT: '0', ...events }, 0),
      logger,
    );
  });

  afterAll(async () => {
    await service?.stop();
    await deleteEventsStream(events);
    await db.drop();
  });

  const checkpoint = async (stream: string) => {
    const { rows } = await db.pool.query<{ v: string }>(
      `SELECT stream_version AS v FROM ${SCHEMA}.projection_checkpoints
        WHERE projection = 'counters' AND stream_id = $1`,
      [stream],
    );
    return rows[0] === undefined ? 0n : BigInt(rows[0].v);
  };

  it('projects each event once, in its transaction with the checkpoint, and reports the consumer in readiness', async () => {
    const store = service.context.eventStore;
    await store.append(
      'counter-a',
      [
        { type: 'CounterOpened', data: { label: 'a' } },
        { type: 'CounterIncremented', data: { by: 2 } },
      ],
      { expected: 'no_stream', metadata: testMetadata() },
    );
    await store.append('counter-a', [{ type: 'CounterIncremented', data: { by: 3 } }], {
      expected: 2n,
      metadata: testMetadata(),
    });
    await eventually(async () => (await checkpoint('counter-a')) === 3n);

    const { rows } = await db.pool.query(`SELECT label, total FROM ${SCHEMA}.counters`);
    expect(rows).toEqual([{ label: 'a', total: '5' }]);
    const effects = await db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.effects`);
    expect(effects.rows[0]).toEqual({ n: 3 });
    const ready = await (await fetch(`${service.url}/readyz`)).json();
    expect(ready).toMatchObject({ checks: { 'component:kit_events_counters': 'ok' } });
  });

  it('rolls back a batch whose handler throws, retries it, then dead-letters it with the real error', async () => {
    await service.context.eventStore.append(
      'counter-p',
      [{ type: 'CounterOpened', data: { label: 'poison' } }],
      { expected: 'no_stream', metadata: testMetadata() },
    );
    const dead = await pollUntil(
      async () => {
        const { rows } = await db.pool.query<{ error: string; attempts: number }>(
          `SELECT error, attempts FROM ${SCHEMA}.dead_letters WHERE stream_id = 'counter-p'`,
        );
        return rows[0];
      },
      { intervalMs: 50 },
    );
    expect(dead!.error).toContain('handler refused CounterOpened counter-p@1');
    expect(dead!.attempts).toBe(2);
    expect(seen.filter((batch) => batch.includes('poison')).length).toBeGreaterThanOrEqual(2);
    const { rows } = await db.pool.query(
      `SELECT 1 FROM ${SCHEMA}.counters WHERE stream_id = 'counter-p'`,
    );
    expect(rows).toEqual([]);
  });
});
