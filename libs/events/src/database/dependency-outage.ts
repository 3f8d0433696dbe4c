// Whether an error says a dependency (PostgreSQL, NATS) is away, rather than that the work itself
// failed. Work that meets an outage is retried for as long as the outage lasts: counting it
// against the work's own attempts would turn a database restart into failed executions.

/** SQLSTATE classes and codes of a server that is away, shutting down or starting up. */
const OUTAGE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: the server is shutting down (fast or smart stop)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
]);

/** Socket errors of a server that cannot be reached, or went away mid-conversation. */
const OUTAGE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Messages of node-postgres and the NATS client that have no code of their own. */
const OUTAGE_MESSAGES = [
  /^Connection terminated/, // node-postgres: the socket closed under a query or a connect
  /^timeout exceeded when trying to connect/, // node-postgres pool
  /^Client has encountered a connection error and is not queryable/,
  /terminating connection due to administrator command/,
  /the database system is (starting up|shutting down|in recovery mode)/,
];

/** Names of the NATS client's errors for a connection that is closed, reconnecting or timed out. */
const OUTAGE_NATS_ERRORS = new Set([
  'ClosedConnectionError',
  'ConnectionError',
  'TimeoutError',
  'DrainingConnectionError',
]);

/** At most this many causes are followed (a cycle of causes must not loop). */
const MAX_CAUSES = 8;

/**
 * True when `error` (or what it wraps: TypeORM's `driverError`, an Error's `cause`) means that
 * PostgreSQL or NATS could not be reached or went away, so the same work may well succeed once
 * it is back.
 */
export function isDependencyOutage(error: unknown): boolean {
  let current: unknown = error;
  // Duck-typed, not `instanceof Error`: errors made in another realm (a vm context) count too.
  for (let depth = 0; depth < MAX_CAUSES && isErrorLike(current); depth++) {
    const e = current;
    const code = typeof e.code === 'string' ? e.code : '';
    if (OUTAGE_SQLSTATES.has(code) || code.startsWith('08') || OUTAGE_SOCKET_CODES.has(code)) {
      return true;
    }
    if (typeof e.name === 'string' && OUTAGE_NATS_ERRORS.has(e.name)) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (OUTAGE_MESSAGES.some((pattern) => pattern.test(message))) return true;
    current = e.driverError ?? e.cause;
  }
  return false;
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && 'message' in value;
}
