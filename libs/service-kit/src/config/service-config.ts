import { readOptionalSecretVariable, redactUrl, withDatabasePassword } from '@campaigns/events';

/** Log levels accepted by LOG_LEVEL, most to least severe (pino's names). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A service's settings, read once at startup from environment variables (see README.md). */
export interface ServiceConfig {
  /** PostgreSQL connection string; may hold a password, so never log it unredacted. */
  readonly databaseUrl: string;
  /** One NATS server URL, or several separated by commas (a cluster). */
  readonly natsUrl: string;
  /**
   * The NATS user and password (NATS_USER, NATS_PASSWORD), over any in NATS_URL; unset on an
   * open local server. The password is never logged.
   */
  readonly natsCredentials: { readonly user?: string; readonly pass?: string };
  /** HTTP port; 0 asks the OS for a free one. */
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** How long graceful shutdown may take before the process gives up and exits 1. */
  readonly shutdownTimeoutMs: number;
  /** JetStream stream carrying the event log, and its subject prefix (`<prefix>.<category>.<Type>`). */
  readonly events: { readonly streamName: string; readonly subjectPrefix: string };
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/campaigns';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Every problem found in the environment at once, so one restart fixes them all. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the service's configuration; unset or empty variables take defaults. */
export function loadServiceConfig(env: Env, defaultPort: number): ServiceConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };

  let databaseUrl = read('DATABASE_URL') ?? DEFAULT_DATABASE_URL;
  if (!hasScheme(databaseUrl, ['postgres:', 'postgresql:'])) {
    problems.push(
      `DATABASE_URL must be a postgres:// or postgresql:// URL, got "${redactUrl(databaseUrl)}"`,
    );
  } else {
    const withPassword = withDatabasePassword(databaseUrl, env);
    if (withPassword.problem !== undefined) problems.push(withPassword.problem);
    else databaseUrl = withPassword.url;
  }

  const natsUrl = read('NATS_URL') ?? DEFAULT_NATS_URL;
  if (!natsUrl.split(',').every((u) => hasScheme(u.trim(), ['nats:', 'tls:', 'ws:', 'wss:']))) {
    problems.push(
      `NATS_URL must be nats:// (or tls://, ws://, wss://) URLs separated by commas, got "${redactUrl(natsUrl)}"`,
    );
  }

  const port = readInteger(read('PORT'), defaultPort, 0, 65_535, 'PORT', problems);
  const host = read('HOST') ?? DEFAULT_HOST;

  const level = read('LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }

  // setTimeout fires at once for delays above 2^31 - 1 ms, so that is the longest honoured.
  const shutdownTimeoutMs = readInteger(
    read('SHUTDOWN_TIMEOUT_MS'),
    DEFAULT_SHUTDOWN_TIMEOUT_MS,
    1,
    2_147_483_647,
    'SHUTDOWN_TIMEOUT_MS',
    problems,
  );

  const streamName = read('EVENTS_STREAM') ?? 'EVENTS';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(streamName)) {
    problems.push(`EVENTS_STREAM must be 1 to 64 letters, digits, _ or -, got "${streamName}"`);
  }
  const subjectPrefix = read('EVENTS_SUBJECT_PREFIX') ?? 'ev';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(subjectPrefix)) {
    problems.push(
      `EVENTS_SUBJECT_PREFIX must be 1 to 32 letters, digits, _ or -, got "${subjectPrefix}"`,
    );
  }

  // NATS_PASSWORD, or the file NATS_PASSWORD_FILE names (a compose secret).
  const natsPassword = readOptionalSecretVariable(env, 'NATS_PASSWORD');
  if (natsPassword?.problem !== undefined) problems.push(natsPassword.problem);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    databaseUrl,
    natsUrl,
    natsCredentials: {
      ...(read('NATS_USER') === undefined ? {} : { user: read('NATS_USER')! }),
      ...(natsPassword?.value === undefined ? {} : { pass: natsPassword.value }),
    },
    port,
    host,
    logLevel: level as LogLevel,
    shutdownTimeoutMs,
    events: { streamName, subjectPrefix },
  };
}

function readInteger(
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function hasScheme(url: string, schemes: readonly string[]): boolean {
  try {
    return schemes.includes(new URL(url).protocol);
  } catch {
    return false;
  }
}
