import type { AddressInfo } from 'node:net';
import { MAX_API_REQUEST_BYTES, MAX_REPLY_BYTES } from '@campaigns/contracts';
import { migrateDatabase, poolOf, PostgresEventStore, schemaOf, sleep } from '@campaigns/events';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ServiceConfig } from '../config/service-config.js';
import { connectNats, watchNatsConnection } from '../connections/connect-nats.js';
import { connectDatabase, postgresAnswers } from '../connections/connect-database.js';
import { JetStreamEventServer } from '../events/jetstream-event.server.js';
import { ServiceLifecycle } from '../lifecycle/service-lifecycle.js';
import { describeError } from '../logging/describe-error.js';
import { NestLogger } from '../logging/nest-logger.js';
import type { ServiceLogger } from '../logging/service-logger.js';
import {
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  guardHttpServer,
} from '../http/http-server-timeouts.js';
import { rawBodyMiddleware } from '../http/raw-body.middleware.js';
import { httpMetricsMiddleware } from '../metrics/http-metrics.middleware.js';
import { httpRejections } from '../metrics/http-rejections.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { Readiness, READINESS_CHECK_TIMEOUT_MS } from '../readiness/readiness.js';
import { NatsRequestServer } from '../requests/nats-request.server.js';
import type { ServiceContext, ServiceDefinition } from './service-definition.js';
import { ServiceKitModule } from './service-kit.module.js';

/** A service that is up and ready. */
export interface StartedService {
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:3101`. */
  readonly url: string;
  readonly context: ServiceContext;
  /** The Nest application, e.g. to `get` a provider in a test. */
  readonly app: INestApplication;
  /**
   * Graceful shutdown: report not ready, close the Nest application (components stop newest
   * first, requests in flight are answered, the HTTP server closes), drain NATS, end the pool. Every step runs; rejects naming the steps that failed.
   */
  stop(): Promise<void>;
}

interface ShutdownStep {
  readonly name: string;
  run(): Promise<unknown>;
}

/**
 * Connects to PostgreSQL and NATS, reads the service's configuration, applies the event store's
 * and the service's migrations, builds the Nest application (its bootstrap hooks start the
 * components), serves the service's requests over NATS and its probes over HTTP. If any of it fails, what was opened is closed (within the
 * shutdown timeout) and the error is rethrown; DependencyUnavailableError names what is missing.
 */
export async function startService(
  definition: ServiceDefinition,
  config: ServiceConfig,
  logger: ServiceLogger,
): Promise<StartedService> {
  // Each resource is put in front once opened, so shutdown closes them newest first.
  const shutdown: ShutdownStep[] = [];
  try {
    const database = await connectDatabase(config.databaseUrl, definition, logger);
    shutdown.unshift({ name: 'PostgreSQL', run: () => database.destroy() });
    const pool = poolOf(database);
    const nats = await connectNats(config.natsUrl, definition.name, config.natsCredentials);
    shutdown.unshift({ name: 'NATS', run: () => nats.drain() });
    // Once, before the store is built: the secrets it must refuse come from this configuration.
    const { settings, secrets } = (await definition.configure?.()) ?? {
      settings: undefined,
      secrets: [],
    };

    const eventStore = new PostgresEventStore(pool, definition.catalogue, { secrets });
    await eventStore.migrate();
    const applied = await migrateDatabase(database);
    logger.info({ migrations: definition.name, applied }, 'migrations applied');

    const registry = createMetricsRegistry(definition.name);
    const context: ServiceContext = {
      service: definition.name,
      database,
      pool,
      nats,
      eventStore,
      registry,
      logger,
      config,
    };
    const readiness = new Readiness();
    readiness.add('database', () => postgresAnswers(database, READINESS_CHECK_TIMEOUT_MS));
    readiness.add('nats', watchNatsConnection(nats, logger));

    const application = await startServiceApplication(definition, context, settings, readiness);
    shutdown.unshift({ name: 'Nest application', run: () => application.close() });
    logger.info({ url: application.url }, 'listening');
    return {
      url: application.url,
      context,
      app: application.app,
      stop: async () => {
        readiness.markStopping();
        const failed = await runShutdown(shutdown, logger);
        if (failed.length > 0)
          throw new Error(`shutdown incomplete: ${failed.join(', ')} failed to stop`);
      },
    };
  } catch (error) {
    // Whatever was opened is closed, within the shutdown timeout.
    const closed = new AbortController();
    await Promise.race([
      runShutdown(shutdown, logger),
      sleep(config.shutdownTimeoutMs, closed.signal),
    ]);
    closed.abort();
    throw error;
  }
}

/** Runs every step even when earlier ones fail; returns the names of those that failed. */
async function runShutdown(
  steps: readonly ShutdownStep[],
  logger: ServiceLogger,
): Promise<string[]> {
  const failed: string[] = [];
  for (const step of steps) {
    try {
      await step.run();
    } catch (error) {
      logger.error(
        { step: step.name, reason: describeError(error) },
        `${step.name} failed to stop`,
      );
      failed.push(step.name);
    }
  }
  return failed;
}

/** Largest body a service with `http.rawBody` reads when it names no limit. */
const DEFAULT_RAW_BODY_LIMIT = 100 * 1024;

/**
 * Answers a body the parsers refused (too large: 413, malformed: 400) with a short JSON error,
 * instead of Express's HTML page with a stack trace and a line on stderr; counts it.
 */
function bodyParserErrors(limit: number, rejected: ReturnType<typeof httpRejections>) {
  return (
    error: { status?: unknown; type?: unknown },
    _req: unknown,
    res: { status(code: number): { json(body: unknown): void } },
    next: (error: unknown) => void,
  ): void => {
    const status = error.status;
    if (typeof status !== 'number' || status < 400 || status >= 500) return next(error);
    const message =
      status === 413 ? `request body larger than ${limit} bytes` : 'malformed request body';
    rejected.inc({ reason: status === 413 ? 'body_too_large' : 'malformed_body' });
    res.status(status).json({ statusCode: status, message });
  };
}

/** A service's Nest application, started over connections someone else owns. */
export interface ServiceApplication {
  readonly app: INestApplication;
  readonly url: string;
  /**
   * Closes the application: its shutdown hooks stop the components (newest first), the request
   * transport answers what is in flight, the HTTP server closes. Rejects naming the components
   * that failed to stop. The connections stay open.
   */
  close(): Promise<void>;
}

/**
 * Builds and starts a service's Nest application over `context`'s connections and migrated
 * store: the probes and /metrics, the service's modules, its `@MessagePattern` handlers over
 * NATS (`definition.requests`), and its components, started by the bootstrap hooks in order.
 * `startService` uses it after connecting; tests use it over their own connections.
 */
export async function startServiceApplication(
  definition: ServiceDefinition,
  context: ServiceContext,
  settings: unknown,
  readiness: Readiness = new Readiness(),
): Promise<ServiceApplication> {
  const { config, logger, nats, registry } = context;
  if (schemaOf(context.database) !== definition.database.schema)
    throw new Error(
      `${definition.name}: its DataSource searches schema ${schemaOf(context.database) ?? '(none)'}, not ${definition.database.schema}`,
    );
  const app = await NestFactory.create<NestExpressApplication>(
    ServiceKitModule.forRoot(context, readiness, settings, definition.imports),
    {
      logger: new NestLogger(logger),
      abortOnError: false,
      // A raw-body service parses nothing: rawBodyMiddleware reads the bytes instead.
      bodyParser: definition.http?.rawBody !== true,
    },
  );
  const lifecycle = app.get(ServiceLifecycle);
  const close = async (): Promise<void> => {
    await app.close();
    if (lifecycle.failedToStop.length > 0)
      throw new Error(`${lifecycle.failedToStop.join(', ')} failed to stop`);
  };
  try {
    const http = definition.http ?? {};
    const rejected = httpRejections(registry);
    // First: requests the body readers refuse are counted too.
    app.use(httpMetricsMiddleware(registry));
    const bodyTimeoutMs = http.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    const headersTimeoutMs = http.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    guardHttpServer(
      app.getHttpServer(),
      { headersTimeoutMs, requestTimeoutMs: headersTimeoutMs + bodyTimeoutMs },
      rejected,
    );
    const limit = http.bodyLimitBytes;
    if (http.rawBody === true) {
      app.use(
        rawBodyMiddleware({
          limitBytes: limit ?? DEFAULT_RAW_BODY_LIMIT,
          timeoutMs: bodyTimeoutMs,
          rejected,
        }),
      );
    } else if (limit !== undefined) {
      // Registered before init, these replace Nest's default parsers (100 KiB limit).
      app.useBodyParser('json', { limit });
      app.useBodyParser('urlencoded', { limit, extended: true });
      app.use(bodyParserErrors(limit, rejected));
    }
    // Events first: the projections' consumers create the tables the requests read.
    if (definition.events) {
      const events = new JetStreamEventServer({
        context,
        schema: definition.database.schema,
        readiness,
        resolve: (token) => app.get(token, { strict: false }),
      });
      app.connectMicroservice({ strategy: events });
    }
    if (definition.requests) {
      const { queue, subjectOf = (pattern: string) => pattern } = definition.requests;
      const server = new NatsRequestServer({
        nats,
        queue,
        subjectOf: (pattern) => subjectOf(pattern, config.events),
        maxRequestBytes: MAX_API_REQUEST_BYTES,
        maxReplyBytes: MAX_REPLY_BYTES,
        logger,
      });
      app.connectMicroservice({ strategy: server });
      readiness.add('requests', () => server.ready());
    }
    // The transports first: the event consumers create the tables that the components (e.g.
    // the reconciler's worker, polling its queue) and the requests read. Then the bootstrap
    // hooks start the relay and the components, in order.
    await app.startAllMicroservices();
    await app.init();
    await app.listen(config.port, config.host);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://${formatHost(config.host)}:${port}`, close };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
