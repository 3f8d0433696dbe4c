import { ConfigError, loadServiceConfig, type ServiceConfig } from '../config/service-config.js';
import { DependencyUnavailableError } from '../connections/dependency-unavailable.error.js';
import { describeError } from '../logging/describe-error.js';
import { createServiceLogger, type ServiceLogger } from '../logging/service-logger.js';
import type { ServiceDefinition } from './service-definition.js';
import { startService, type StartedService } from './start-service.js';

/**
 * The whole life of a service process, for its `main.ts`: reads the environment, starts the
 * service and shuts it down gracefully on SIGTERM or SIGINT. Exits 1 with a single fatal log
 * line when it cannot start, and when shutdown fails or outlasts SHUTDOWN_TIMEOUT_MS.
 */
export async function bootstrapService(definition: ServiceDefinition): Promise<void> {
  let config: ServiceConfig;
  try {
    config = loadServiceConfig(process.env, definition.defaultPort);
  } catch (error) {
    const problems = error instanceof ConfigError ? error.problems : undefined;
    createServiceLogger(definition.name, 'info').fatal({ problems }, describeError(error));
    process.exit(1);
  }
  const logger = createServiceLogger(definition.name, config.logLevel);
  // Keep even a crash on the JSON log instead of a bare stack trace on stderr.
  process.on('uncaughtException', (error) => exitWith(logger, 'uncaught exception', error));
  process.on('unhandledRejection', (reason) =>
    exitWith(logger, 'unhandled promise rejection', reason),
  );

  // Signal handlers come first: a SIGTERM during startup must not kill the process outright.
  // It is remembered, and the graceful shutdown runs as soon as the service is up.
  const { shutdownTimeoutMs } = config;
  let service: StartedService | undefined;
  let requested: NodeJS.Signals | undefined;
  let stopping = false;
  const shutDown = (signal: NodeJS.Signals): void => {
    if (!service) {
      requested ??= signal;
      return;
    }
    if (stopping) {
      logger.warn({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    const started = service;
    logger.info({ signal, shutdownTimeoutMs }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error(
        { shutdownTimeoutMs },
        `shutdown took longer than SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs} ms)`,
      );
      process.exit(1);
    }, shutdownTimeoutMs);
    started.stop().then(
      () => {
        clearTimeout(deadline);
        logger.info('shutdown complete');
        process.exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.error({ reason: describeError(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutDown);
  process.on('SIGINT', shutDown);

  try {
    service = await startService(definition, config, logger);
  } catch (error) {
    logStartupFailure(logger, error);
    process.exit(1);
  }
  if (requested) shutDown(requested);
}

function logStartupFailure(logger: ServiceLogger, error: unknown): void {
  if (error instanceof DependencyUnavailableError) {
    const { dependency, url, variable, reason } = error;
    logger.fatal({ dependency, url, variable, reason }, error.message);
  } else {
    // Not an operator's mistake but a bug or a failed migration: the stack helps whoever fixes it.
    logger.fatal(
      { reason: describeError(error), err: error },
      `startup failed: ${describeError(error)}`,
    );
  }
}

function exitWith(logger: ServiceLogger, what: string, error: unknown): never {
  logger.fatal({ reason: describeError(error), err: error }, `${what}: ${describeError(error)}`);
  process.exit(1);
}
