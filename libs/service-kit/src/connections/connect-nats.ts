import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describeError } from '../logging/describe-error.js';
import { natsConnectTarget, redactUrl } from '@campaigns/events';
import type { ServiceLogger } from '../logging/service-logger.js';
import type { ReadinessCheck } from '../readiness/readiness.js';
import { DependencyUnavailableError } from './dependency-unavailable.error.js';

/** How long to wait for the first NATS connection at startup. */
export const NATS_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to NATS (as the user in `credentials` or the URL, when there is one) or throws
 * DependencyUnavailableError. Only the first connection must succeed at startup; afterwards the
 * client reconnects forever and readiness reports the outage.
 */
export async function connectNats(
  url: string,
  service: string,
  credentials: { user?: string; pass?: string } = {},
): Promise<NatsConnection> {
  try {
    return await connect({
      ...natsConnectTarget(url, credentials),
      name: service,
      timeout: NATS_CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: -1,
    });
  } catch (error) {
    throw new DependencyUnavailableError('NATS', redactUrl(url), 'NATS_URL', describeError(error));
  }
}

/**
 * Follows the connection's status in the background, logging outages, and returns a readiness
 * check that fails while the connection is closed or reconnecting.
 */
export function watchNatsConnection(nats: NatsConnection, logger: ServiceLogger): ReadinessCheck {
  let connected = true;
  void (async () => {
    for await (const status of nats.status()) {
      if (status.type === 'disconnect') {
        connected = false;
        logger.warn({ server: status.server }, 'NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        connected = true;
        logger.info({ server: status.server }, 'NATS connection restored');
      } else if (status.type === 'error') {
        logger.warn({ reason: describeError(status.error) }, 'NATS server reported an error');
      }
    }
  })().catch((error: unknown) =>
    logger.warn({ reason: describeError(error) }, 'stopped following NATS status'),
  );
  return () => {
    if (nats.isClosed()) throw new Error('connection closed');
    if (!connected) throw new Error('reconnecting');
    return true;
  };
}
