// The whole system for end-to-end tests: the simulator with sample repositories, the four
// services as real processes (built dist, as production runs them) on a fresh database and
// their own JetStream stream, webhooks from the simulator to the gateway, and the real CLI.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  connectTestNats,
  createTestDatabase,
  type TestDatabase,
  TEST_NATS_CLI_URL,
  TEST_NATS_URL,
} from '@campaigns/events/testing';
import {
  freePort,
  spawnService,
  type ServiceProcess,
  deleteEventsStream,
  uniqueEventsEnv,
} from '@campaigns/service-kit/testing';
import { startSimEnvironment, type SimEnvironment } from '../sim-environment.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export const SERVICE_NAMES = [
  'spec-service',
  'executor-service',
  'reconciler-service',
  'webhook-gateway',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
/** The backend services and the web dashboard (started only when `dashboard` asks). */
export type ProcessName = ServiceName | 'dashboard';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunningSystem {
  readonly env: SimEnvironment;
  readonly db: TestDatabase;
  /**
   * Environment the services and the CLI share (database, NATS, stream, config, credentials),
   * and CAMPAIGN_TOKEN: E2E_USER's, a site admin's. Its NATS_URL is the services' (the broker's
   * `services` user); `cli` replaces it with the CLI's.
   */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** NATS_URL of the CLI: the broker's `cli` user, whose account reaches only the API. */
  readonly cliNatsUrl: string;
  readonly workDir: string;
  /**
   * `campaign ARGS` as a user runs it: the built CLI in a child process, connected to NATS as the
   * `cli` user (so every end-to-end test goes through the CLI's account, as deployments do).
   */
  cli(args: readonly string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** The processes of a service (two executor replicas by default). */
  processes(name: ProcessName): ServiceProcess[];
  /**
   * Starts one more process of a service and waits until it is ready; on `port` when given
   * (a replacement for a killed process keeps its address: the simulator's webhook points there).
   */
  start(
    name: ProcessName,
    options?: { port?: number; env?: Record<string, string> },
  ): Promise<ServiceProcess>;
  /** SIGKILLs every process of a service. */
  kill(name: ProcessName): Promise<void>;
  /** SIGKILLs the `index`th process of `processes(name)`; returns the port it listened on. */
  killOne(name: ProcessName, index: number): Promise<{ port: number; pid: number }>;
  /** Every process started so far, running or exited, in start order (for their logs). */
  history(): { name: ProcessName; port: number; proc: ServiceProcess }[];
  /** The HTTP status of each running process's `GET /readyz` (0: no answer). */
  readiness(name: ProcessName): Promise<number[]>;
  /** Every log line any service wrote, for secret scans. */
  allOutput(): string;
  gatewayUrl(): string;
  /** Where the dashboard listens (started with `dashboard: true`). */
  dashboardUrl(): string;
  stop(): Promise<void>;
}

export interface SystemOptions {
  repos?: number;
  executorReplicas?: number;
  /** Processes per service (default one each, and `executorReplicas` executors). */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Extra environment for every service. */
  serviceEnv?: Record<string, string>;
  /** Token for the bot (e.g. a canary). */
  token?: string;
  /** More settings of the simulator's entry in campaigns.config.yaml (YAML lines). */
  codeHostSettings?: string;
  /**
   * Dependencies of the test's own (PrivatePostgres, PrivateNatsServer), so it can take them
   * away: the admin URL of the PostgreSQL server to create the database in, and NATS's URL.
   */
  postgresAdminUrl?: string;
  natsUrl?: string;
  /** The CLI's NATS_URL (default: the shared broker's `cli` user; `natsUrl` when that is given). */
  cliNatsUrl?: string;
  /** Start the web dashboard too (`dashboardUrl()`). */
  dashboard?: boolean;
}

async function waitReady(port: number, proc: ServiceProcess, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(
        `${name} exited during startup:\n${proc.stdoutLines.join('\n')}\n${proc.stderr()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`${name} not ready in 60 s:\n${proc.stdoutLines.slice(-30).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const workDir = await mkdtemp(join(tmpdir(), 'campaigns-e2e-'));
  const env = await startSimEnvironment({
    repos: options.repos ?? 20,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.codeHostSettings === undefined
      ? {}
      : { codeHostSettings: options.codeHostSettings }),
  });
  const db = await createTestDatabase('campaigns_e2e', options.postgresAdminUrl);
  const natsUrl = options.natsUrl ?? TEST_NATS_URL;
  const cliNatsUrl = options.cliNatsUrl ?? options.natsUrl ?? TEST_NATS_CLI_URL;
  const events = uniqueEventsEnv();
  const configFile = await env.writeConfig(workDir);
  const baseEnv: Record<string, string> = {
    DATABASE_URL: db.url,
    NATS_URL: natsUrl,
    ...events,
    CAMPAIGNS_CONFIG: configFile,
    ...env.env,
    CAMPAIGNS_WRITE_SPACING_MS: '0',
    CAMPAIGNS_NOTIFICATION_SPACING_MS: '0',
    EXECUTOR_ACK_WAIT_MS: '5000',
    EXECUTOR_CACHE_DIR: join(workDir, 'executor-cache'),
    RECONCILER_LEASE_MS: '5000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'info',
  };
  const running = new Map<ProcessName, { proc: ServiceProcess; port: number }[]>();
  const finished: ServiceProcess[] = [];
  const started: { name: ProcessName; port: number; proc: ServiceProcess }[] = [];
  const serviceEnv = options.serviceEnv ?? {};

  const start = async (
    name: ProcessName,
    startOptions: { port?: number; env?: Record<string, string> } = {},
  ): Promise<ServiceProcess> => {
    const port = startOptions.port ?? (await freePort());
    const proc = spawnService(`services/${name}/dist/main.js`, {
      ...baseEnv,
      ...serviceEnv,
      ...startOptions.env,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    const list = running.get(name) ?? [];
    list.push({ proc, port });
    running.set(name, list);
    started.push({ name, port, proc });
    await waitReady(port, proc, name);
    return proc;
  };

  const system: RunningSystem = {
    env,
    db,
    baseEnv,
    cliNatsUrl,
    workDir,
    cli: (args, extraEnv = {}) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [join(repoRoot, 'apps/cli/dist/main.js'), ...args],
          {
            cwd: workDir,
            env: {
              PATH: process.env.PATH ?? '',
              HOME: workDir,
              ...baseEnv,
              NATS_URL: cliNatsUrl,
              ...extraEnv,
            },
            maxBuffer: 16 * 1024 * 1024,
          },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      }),
    processes: (name) => (running.get(name) ?? []).map((r) => r.proc),
    start,
    async kill(name) {
      for (const { proc } of running.get(name) ?? []) {
        proc.child.kill('SIGKILL');
        await proc.exited;
        finished.push(proc);
      }
      running.set(name, []);
    },
    async killOne(name, index) {
      const list = running.get(name) ?? [];
      const target = list[index];
      if (!target) throw new Error(`${name} has no process #${index} (${list.length} running)`);
      const pid = target.proc.child.pid ?? -1;
      target.proc.child.kill('SIGKILL');
      await target.proc.exited;
      finished.push(target.proc);
      running.set(
        name,
        list.filter((r) => r !== target),
      );
      return { port: target.port, pid };
    },
    history: () => [...started],
    readiness: (name) =>
      Promise.all(
        (running.get(name) ?? []).map(async ({ port }) => {
          try {
            return (
              await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })
            ).status;
          } catch {
            return 0;
          }
        }),
      ),
    allOutput: () =>
      [...finished, ...[...running.values()].flat().map((r) => r.proc)]
        .map((p) => `${p.stdoutLines.join('\n')}\n${p.stderr()}`)
        .join('\n'),
    gatewayUrl: () => `http://127.0.0.1:${running.get('webhook-gateway')![0]!.port}`,
    dashboardUrl: () => {
      const first = running.get('dashboard')?.[0];
      if (!first) throw new Error('no dashboard is running: start the system with dashboard: true');
      return `http://127.0.0.1:${first.port}`;
    },
    async stop() {
      for (const list of running.values()) {
        for (const { proc } of list) if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
      }
      await Promise.all([...running.values()].flat().map((r) => r.proc.exited));
      await env.stop();
      await deleteEventsStream(events, natsUrl);
      await deleteJobsStream(events.EVENTS_STREAM, natsUrl);
      await db.drop();
      await rm(workDir, { recursive: true, force: true });
    },
  };

  try {
    const replicas: Record<ServiceName, number> = {
      'spec-service': 1,
      'reconciler-service': 1,
      'webhook-gateway': 1,
      'executor-service': options.executorReplicas ?? 2,
      ...options.replicas,
    };
    for (const name of [
      'spec-service',
      'reconciler-service',
      'webhook-gateway',
      'executor-service',
    ] as const) {
      for (let i = 0; i < replicas[name]; i++) await start(name);
    }
    baseEnv['CAMPAIGN_TOKEN'] = await bootstrapToken(system, db.url);
    // The site's own namespace (a site admin's to use): campaigns keep their bare names, as
    // before namespaces. A test about namespaces passes its own -n or CAMPAIGN_NAMESPACE.
    baseEnv['CAMPAIGN_NAMESPACE'] = 'default';
    if (options.dashboard) await start('dashboard');
    await env.connectWebhooks(`${system.gatewayUrl()}/webhooks/github`);
    return system;
  } catch (error) {
    await system.stop().catch(() => undefined);
    throw error;
  }
}

/** The CLI's user, a site admin, as an operator creates the first one: on the database. */
export const E2E_USER = 'e2e-tester';

async function bootstrapToken(system: RunningSystem, databaseUrl: string): Promise<string> {
  const result = await system.cli(['admin', 'bootstrap', E2E_USER, '--database-url', databaseUrl]);
  const token = result.stdout.trim();
  if (result.code !== 0 || !token.startsWith('cmp_'))
    throw new Error(`admin bootstrap failed (exit ${result.code}): ${result.stderr}`);
  return token;
}

async function deleteJobsStream(eventsStream: string, natsUrl: string): Promise<void> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nats = await connectTestNats(natsUrl);
  try {
    await (await jetstreamManager(nats)).streams.delete(`${eventsStream}_JOBS`).catch(() => false);
  } finally {
    await nats.close();
  }
}

/** Every stored event, in global order, as `{type, stream, data, metadata}`. */
export async function storedEvents(pool: pg.Pool): Promise<
  {
    type: string;
    stream_id: string;
    data: Record<string, unknown>;
    metadata: Record<string, unknown>;
  }[]
> {
  const { rows } = await pool.query(
    `SELECT type, stream_id, data, metadata FROM eventstore.events ORDER BY global_position`,
  );
  return rows;
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
