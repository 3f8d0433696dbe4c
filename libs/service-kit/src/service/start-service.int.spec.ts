import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { EventCatalogue, sqlMigrations } from '@campaigns/events';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Controller, Get, Inject, Module, UseFilters } from '@nestjs/common';
import { ApiExceptionFilter } from '../requests/api-exception.filter.js';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { from, type Observable } from 'rxjs';
import { z } from 'zod';
import { invalidRequest } from '../requests/api-request.error.js';
import { ZodPayloadPipe } from '../requests/zod-payload.pipe.js';
import { Counter, Registry } from 'prom-client';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import { loadServiceConfig } from '../config/service-config.js';
import { deleteEventsStream, uniqueEventsEnv } from '../test-support/unique-events-env.js';
import { capturedLogger } from '../test-support/captured-logs.js';
import { waitFor } from '../test-support/wait-for.js';
import {
  provideComponents,
  SERVICE_COMPONENTS,
  SERVICE_CONTEXT,
  type ServiceComponent,
  type ServiceContext,
  type ServiceDefinition,
} from './service-definition.js';
import { startService, type StartedService } from './start-service.js';

/** A component whose readiness and stopping the test controls, recording what happened when. */
class ScriptedComponent implements ServiceComponent {
  healthy = true;
  private finishInFlightWork: () => void = () => undefined;
  private readonly inFlight = new Promise<void>((resolve) => (this.finishInFlightWork = resolve));
  holdStop = false;

  constructor(
    readonly name: string,
    private readonly context: ServiceContext,
    private readonly history: string[],
  ) {}

  async start(): Promise<void> {
    // Fails unless the event store's migrations ran before components start.
    await this.context.pool.query('SELECT count(*) FROM eventstore.events');
    new Counter({
      name: `kit_test_${this.name}_starts_total`,
      help: 'test',
      registers: [this.context.registry],
    }).inc();
    this.history.push(`start ${this.name}`);
  }

  async stop(): Promise<void> {
    this.history.push(`stopping ${this.name}`);
    if (this.holdStop) await this.inFlight;
    this.history.push(`stopped ${this.name}`);
  }

  ready(): boolean {
    return this.healthy;
  }

  finish(): void {
    this.finishInFlightWork();
  }
}

@Controller()
class WhoAmIController {
  constructor(
    @Inject(SERVICE_CONTEXT) private readonly context: ServiceContext,
    @Inject(Registry) private readonly registry: Registry,
    @InjectDataSource() private readonly database: DataSource,
  ) {}

  @Get('whoami')
  async whoami(): Promise<{ port: number; sameRegistry: boolean; things: number }> {
    // An unqualified name: the service's connections search its own schema.
    const [row] = (await this.database.query('SELECT count(*)::int AS n FROM things')) as {
      n: number;
    }[];
    return {
      port: this.context.config.port,
      sameRegistry:
        this.registry === this.context.registry && this.database === this.context.database,
      things: row!.n,
    };
  }
}

/** Requests over NATS: a pipe that validates, a handler that fails, one that streams. */
@Controller()
@UseFilters(ApiExceptionFilter)
class EchoController {
  @MessagePattern('kit.echo')
  echo(@Payload(new ZodPayloadPipe(z.object({ say: z.string() }))) body: { say: string }) {
    if (body.say === 'boom') throw new Error('the echo broke');
    if (body.say === 'no') throw invalidRequest('not saying that');
    return { said: body.say };
  }

  @MessagePattern('kit.count', { streamed: true })
  count(): Observable<{ n: number }> {
    return from([{ n: 1 }, { n: 2 }]);
  }
}

@Module({})
class KitTestModule {}

describe('startService', () => {
  // One JetStream stream of its own for the whole file, deleted at the end.
  const events = uniqueEventsEnv();
  let db: TestDatabase;
  let service: StartedService | undefined;
  let components: ScriptedComponent[];
  let history: string[];

  const definition = (name = 'kit-test', broken = false): ServiceDefinition => ({
    name,
    defaultPort: 0,
    database: {
      schema: name.replaceAll('-', '_'),
      entities: [],
      migrations: sqlMigrations({
        component: name,
        timestamp: 1_764_806_900_000,
        migrations: [
          {
            version: 1,
            name: 'a table of its own',
            sql: `CREATE TABLE ${name.replaceAll('-', '_')}.things (id int PRIMARY KEY)`,
          },
        ],
      }),
    },
    catalogue: new EventCatalogue([]),
    imports: [
      {
        module: KitTestModule,
        controllers: [WhoAmIController, EchoController],
        providers: [
          provideComponents(
            (context: ServiceContext) => {
              components = [
                new ScriptedComponent('relay', context, history),
                new ScriptedComponent('consumer', context, history),
              ];
              if (broken) {
                components[1]!.start = () => Promise.reject(new Error('stream EVENTS not found'));
              }
              return components;
            },
            [SERVICE_CONTEXT],
          ),
        ],
        exports: [SERVICE_COMPONENTS],
      },
    ],
    requests: { queue: 'kit-test', subjectOf: (pattern) => `${pattern}.${events.EVENTS_STREAM}` },
  });

  const start = async (def = definition()) => {
    const { logger, lines } = capturedLogger(def.name);
    service = await startService(
      def,
      loadServiceConfig({ DATABASE_URL: db.url, PORT: '0', ...events }, 0),
      logger,
    );
    return { service, lines };
  };

  const get = async (path: string) => {
    const response = await fetch(`${service!.url}${path}`);
    return { status: response.status, body: await response.text() };
  };

  beforeAll(async () => {
    db = await createTestDatabase('service_kit_test');
  });

  beforeEach(() => {
    history = [];
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  afterAll(async () => {
    await deleteEventsStream(events);
    await db.drop();
  });

  it('migrates, starts components after the migrations, and reports ready naming every check', async () => {
    const { lines } = await start();

    expect(history).toEqual(['start relay', 'start consumer']);
    const { rows } = await db.pool.query<{ schema_name: string }>(
      `SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('eventstore', 'kit_test') ORDER BY 1`,
    );
    expect(rows.map((r) => r.schema_name)).toEqual(['eventstore', 'kit_test']);
    expect(await get('/healthz')).toEqual({ status: 200, body: '{"status":"alive"}' });
    expect(JSON.parse((await get('/readyz')).body)).toEqual({
      status: 'ready',
      checks: {
        database: 'ok',
        nats: 'ok',
        'component:relay:events': 'ok',
        'component:relay': 'ok',
        'component:consumer': 'ok',
        requests: 'ok',
      },
    });
    expect(lines.at(-1)).toMatchObject({
      level: 'info',
      service: 'kit-test',
      msg: 'listening',
      url: service!.url,
    });
  });

  it('answers /readyz with 503 naming the component while it reports not ready, and 200 again once it recovers', async () => {
    await start();

    components[0]!.healthy = false;
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toEqual({
      status: 'not ready',
      checks: {
        database: 'ok',
        nats: 'ok',
        'component:relay:events': 'ok',
        'component:relay': 'not ready',
        'component:consumer': 'ok',
        requests: 'ok',
      },
    });
    expect((await get('/healthz')).status).toBe(200);

    components[0]!.healthy = true;
    expect((await get('/readyz')).status).toBe(200);
  });

  it('serves process metrics, HTTP request metrics and what components registered at /metrics', async () => {
    await start();
    await get('/healthz');

    const { status, body } = await get('/metrics');

    expect(status).toBe(200);
    expect(body).toContain('process_cpu_seconds_total{service="kit-test"}');
    expect(body).toContain(
      'http_requests_total{method="GET",route="/healthz",status="200",service="kit-test"} 1',
    );
    expect(body).toContain('http_request_duration_seconds_bucket{');
    expect(body).toContain('kit_test_relay_starts_total{service="kit-test"} 1');
  });

  it("lets the service's own Nest modules inject the context and the metrics registry", async () => {
    await start();
    expect(JSON.parse((await get('/whoami')).body)).toEqual({
      port: 0,
      sameRegistry: true,
      things: 0,
    });
  });

  it("serves the modules' @MessagePattern handlers over NATS: validated, errors as API errors, streams ended by an empty message", async () => {
    const started = (await start()).service;
    const { nats } = started.context;
    const ask = async (body: string) =>
      (await nats.request(`kit.echo.${events.EVENTS_STREAM}`, body, { timeout: 5_000 })).json();

    expect(await ask('{"say":"hi"}')).toEqual({ ok: true, said: 'hi' });
    expect(await ask('{"say":1}')).toEqual({
      ok: false,
      error: {
        code: 'invalid-request',
        message: '"say": Invalid input: expected string, received number',
      },
    });
    expect(await ask('{"say":"no"}')).toEqual({
      ok: false,
      error: { code: 'invalid-request', message: 'not saying that' },
    });
    expect(await ask('{"say":"boom"}')).toEqual({
      ok: false,
      error: { code: 'internal', message: 'kit-test failed: the echo broke' },
    });
    expect(await ask('[1]')).toEqual({
      ok: false,
      error: { code: 'invalid-request', message: 'the request must be a JSON object' },
    });

    const messages = await nats.requestMany(`kit.count.${events.EVENTS_STREAM}`, '', {
      strategy: 'sentinel',
      maxWait: 5_000,
    });
    const parts: string[] = [];
    for await (const m of messages) parts.push(m.string());
    expect(parts).toEqual(['{"ok":true,"n":1}', '{"ok":true,"n":2}', '']);
  });

  it('on stop, reports stopping while components finish in-flight work, then closes HTTP, NATS and the pool', async () => {
    const started = (await start()).service;
    components[1]!.holdStop = true;

    const stopping = started.stop();
    service = undefined;
    await waitFor('the consumer to begin stopping', () => history.includes('stopping consumer'));
    const duringShutdown = await fetch(`${started.url}/readyz`);
    expect(duringShutdown.status).toBe(503);
    expect(await duringShutdown.json()).toEqual({ status: 'stopping', checks: {} });

    components[1]!.finish();
    await stopping;

    // Newest component first, so a consumer stops before the relay it may depend on.
    expect(history).toEqual([
      'start relay',
      'start consumer',
      'stopping consumer',
      'stopped consumer',
      'stopping relay',
      'stopped relay',
    ]);
    await expect(fetch(`${started.url}/healthz`)).rejects.toThrow();
    expect(started.context.nats.isClosed()).toBe(true);
    expect(started.context.pool.ended).toBe(true);
  });

  it('survives PostgreSQL dropping its idle connections, and stays ready', async () => {
    const { lines } = await start();

    // Only this test's database: other test runs may have 'kit-test' connections of their own.
    await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'kit-test' AND datname = current_database()`,
    );

    await waitFor('the lost connection to be logged', () =>
      lines.some((l) => l.msg === 'idle PostgreSQL connection lost'),
    );
    expect((await get('/readyz')).status).toBe(200);
  });

  it('fails to start naming the component that could not start, and closes the connections it opened', async () => {
    const { logger } = capturedLogger('kit-broken');
    const config = loadServiceConfig({ DATABASE_URL: db.url, PORT: '0', ...events }, 0);

    await expect(startService(definition('kit-broken', true), config, logger)).rejects.toThrow(
      'component consumer failed to start: stream EVENTS not found',
    );

    expect(history).toEqual(['start relay', 'stopping relay', 'stopped relay']);
    // A backend exits a moment after its client disconnects.
    await waitFor(
      'kit-broken connections to close',
      async () => {
        const { rowCount } = await db.pool.query(
          `SELECT pid FROM pg_stat_activity
            WHERE application_name = 'kit-broken' AND datname = current_database()`,
        );
        return rowCount === 0;
      },
      2_000,
    );
  });
});
