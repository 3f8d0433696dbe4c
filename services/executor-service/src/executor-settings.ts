import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretLengthProblem } from '@campaigns/events';
import { DEFAULT_STEP_TIMEOUT_MS } from './steps/index.js';

/** The executor's own settings, read from its environment at startup (see README.md). */
export interface ExecutorSettings {
  /** EXECUTOR_ACK_WAIT_MS: how long a job may go without a heartbeat before it is redelivered. */
  readonly ackWaitMs: number;
  /** EXECUTOR_CONCURRENCY: jobs one replica runs at once. */
  readonly concurrency: number;
  /** EXECUTOR_CACHE_DIR: where the bare mirrors of repositories are kept between jobs. */
  readonly cacheDir: string;
  /** EXECUTOR_WORK_DIR: where each job's workspace is checked out (removed afterwards). */
  readonly workDir: string;
  /** EXECUTOR_STEP_TIMEOUT_MS: per-step limit. */
  readonly stepTimeoutMs: number;
  /**
   * EXECUTOR_STEP_SECRETS: names of this process's environment variables that a step may ask
   * for with a bare `env: [NAME]` entry. Only listed variables are ever handed to a step, so a
   * spec cannot read DATABASE_URL or a code host token.
   */
  readonly stepSecretNames: readonly string[];
  /** EXECUTOR_MAX_ATTEMPTS: deliveries after which an internal error becomes ExecutionFailed. */
  readonly maxAttempts: number;
  /** EXECUTOR_STOP_DEADLINE_MS: how long a graceful stop waits for running jobs before it naks them. */
  readonly stopDeadlineMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * EXECUTOR_CONCURRENCY's default: two jobs per CPU. A job's time is mostly waiting (the code
 * host, the engine, the step), so one per CPU leaves them idle; measured on 2 cores with warm
 * containers, 4 ran hello-world jobs fastest and 8 spent more CPU per job (README.md).
 */
export function defaultConcurrency(cpus: number = availableParallelism()): number {
  return Math.min(256, Math.max(1, 2 * cpus));
}

/** Reads the settings; throws one Error naming every invalid variable. */
export function loadExecutorSettings(env: Env = process.env): ExecutorSettings {
  const problems: string[] = [];
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const ackWaitMs = integer('EXECUTOR_ACK_WAIT_MS', 60_000, 1_000, 24 * 3_600_000);
  const concurrency = integer('EXECUTOR_CONCURRENCY', defaultConcurrency(), 1, 256);
  const stepTimeoutMs = integer(
    'EXECUTOR_STEP_TIMEOUT_MS',
    DEFAULT_STEP_TIMEOUT_MS,
    1_000,
    2_147_483_647,
  );
  const maxAttempts = integer('EXECUTOR_MAX_ATTEMPTS', 5, 1, 1_000);
  const stopDeadlineMs = integer('EXECUTOR_STOP_DEADLINE_MS', 5_000, 0, 2_147_483_647);
  const names = (read('EXECUTOR_STEP_SECRETS') ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      problems.push(`EXECUTOR_STEP_SECRETS: "${name}" is not an environment variable name`);
  }
  if (problems.length > 0)
    throw new Error(`invalid executor configuration: ${problems.join('; ')}`);
  const base = join(tmpdir(), 'campaigns-executor');
  return {
    ackWaitMs,
    concurrency,
    cacheDir: read('EXECUTOR_CACHE_DIR') ?? join(base, 'mirrors'),
    workDir: read('EXECUTOR_WORK_DIR') ?? join(base, 'work'),
    stepTimeoutMs,
    stepSecretNames: names,
    maxAttempts,
    stopDeadlineMs,
  };
}

/**
 * The values of the step secrets that are set; unset ones are simply unavailable to steps. Throws
 * one Error naming every variable whose value is too short to be redacted (never the value).
 */
export function stepSecretsFromEnv(
  names: readonly string[],
  env: Env = process.env,
): Record<string, string> {
  const secrets: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const tooShort = secretLengthProblem(value);
    if (tooShort !== null)
      problems.push(`environment variable ${name} (in EXECUTOR_STEP_SECRETS) ${tooShort}`);
    else secrets[name] = value;
  }
  if (problems.length > 0)
    throw new Error(`invalid executor configuration: ${problems.join('; ')}`);
  return secrets;
}
