import type { AddressInfo } from 'node:net';
import { EventRelay, PostgresEventStore, runMigrations } from '@campaigns/events';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ServiceConfig } from '../config/service-config.js';
import { connectNats, watchNatsConnection } from '../connections/connect-nats.js';
import { connectPostgres, postgresAnswers } from '../connections/connect-postgres.js';
import { ServiceKitModule } from '../http/service-kit.module.js';
import { describeError } from '../logging/describe-error.js';
import { NestLogger } from '../logging/nest-logger.js';
import type { ServiceLogger } from '../logging/service-logger.js';
import { httpMetricsMiddleware } from '../metrics/http-metrics.middleware.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { Readiness, READINESS_CHECK_TIMEOUT_MS } from '../readiness/readiness.js';
import type { ServiceComponent, ServiceContext, ServiceDefinition } from './service-definition.js';

/** A service that is up and ready. */
export interface StartedService {
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:3101`. */
  readonly url: string;
  readonly context: ServiceContext;
  /**
   * Graceful shutdown: report not ready, stop components (newest first), close the HTTP server,
   * drain NATS, end the pool. Every step runs; rejects naming the steps that failed.
   */
  stop(): Promise<void>;
}

interface ShutdownStep {
  readonly name: string;
  run(): Promise<unknown>;
}

/**
 * Connects to PostgreSQL and NATS, applies the event store's and the service's migrations, starts
 * the components and serves HTTP. If any of it fails, what was opened is closed (within the
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
    const pool = await connectPostgres(config.databaseUrl, definition.name, logger);
    shutdown.unshift({ name: 'PostgreSQL', run: () => pool.end() });
    const nats = await connectNats(config.natsUrl, definition.name);
    shutdown.unshift({ name: 'NATS', run: () => nats.drain() });

    const secrets = (await definition.secrets?.()) ?? [];
    const eventStore = new PostgresEventStore(pool, definition.catalogue, { secrets });
    await eventStore.migrate();
    const applied = await runMigrations(pool, definition.name, definition.migrations);
    logger.info({ migrations: definition.name, applied }, 'migrations applied');

    const registry = createMetricsRegistry(definition.name);
    const context: ServiceContext = { pool, nats, eventStore, registry, logger, config };
    const readiness = new Readiness();
    readiness.add('database', () => postgresAnswers(pool, READINESS_CHECK_TIMEOUT_MS));
    readiness.add('nats', watchNatsConnection(nats, logger));

    const app = await NestFactory.create<NestExpressApplication>(
      ServiceKitModule.forRoot(context, readiness, definition.imports),
      {
        logger: new NestLogger(logger),
        abortOnError: false,
        rawBody: definition.http?.rawBody ?? false,
      },
    );
    const limit = definition.http?.bodyLimitBytes;
    if (limit !== undefined) {
      // Registered before init, these replace Nest's default parsers (100 KiB limit).
      app.useBodyParser('json', { limit });
      app.useBodyParser('urlencoded', { limit, extended: true });
      app.use(bodyParserErrors(limit));
    }
    shutdown.unshift({ name: 'HTTP server', run: () => app.close() });

    // Every instance is a relay candidate; the advisory lock makes exactly one of them publish.
    const components: ServiceComponent[] = [
      new EventRelay({ store: eventStore, nats, registry, logger, topology: config.events }),
      ...definition.components(context),
    ];
    for (const component of components) {
      readiness.add(`component:${component.name}`, () => component.ready());
    }
    for (const component of components) {
      await startComponent(component);
      shutdown.unshift({ name: `component:${component.name}`, run: () => component.stop() });
    }

    app.use(httpMetricsMiddleware(registry));
    await app.listen(config.port, config.host);

    const { port } = app.getHttpServer().address() as AddressInfo;
    const url = `http://${formatHost(config.host)}:${port}`;
    logger.info({ url }, 'listening');
    return {
      url,
      context,
      stop: async () => {
        readiness.markStopping();
        const failed = await runShutdown(shutdown, logger);
        if (failed.length > 0)
          throw new Error(`shutdown incomplete: ${failed.join(', ')} failed to stop`);
      },
    };
  } catch (error) {
    await Promise.race([runShutdown(shutdown, logger), delay(config.shutdownTimeoutMs)]);
    throw error;
  }
}

async function startComponent(component: ServiceComponent): Promise<void> {
  try {
    await component.start();
  } catch (error) {
    throw new Error(`component ${component.name} failed to start: ${describeError(error)}`, {
      cause: error,
    });
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

/**
 * Answers a body the parsers refused (too large: 413, malformed: 400) with a short JSON error,
 * instead of Express's HTML page with a stack trace and a line on stderr.
 */
function bodyParserErrors(limit: number) {
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
    res.status(status).json({ statusCode: status, message });
  };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
