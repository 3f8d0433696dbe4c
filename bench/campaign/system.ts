// The system under test for `npm run bench:campaign`: the GitHub simulator (in this process, as
// `npm start` runs it), a fresh database, unique JetStream stream names and the four services as
// child processes, one each, with the environment `npm start` gives them. Also the CLI, the
// services' logs and resident memory, and cleanup that runs whatever happens.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import { freePort, uniqueEventsEnv } from '@campaigns/service-kit/testing';
import {
  ensureStepImage,
  simulatorServiceEnv,
  startSimEnvironment,
  type SimEnvironment,
} from '../../tools/campaigns-system/src/index.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export const SERVICE_NAMES = [
  'spec-service',
  'executor-service',
  'reconciler-service',
  'webhook-gateway',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;
const LOG_TAIL_LINES = 30;

/** Progress and diagnostics go to stderr: stdout carries only the table and the JSON line. */
export function say(message: string): void {
  process.stderr.write(`bench:campaign │ ${message}\n`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly port: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** The last lines it wrote (stdout and stderr). */
  readonly tail: string[];
  /** Log lines by level name (warn, error, fatal; others are not counted). */
  readonly levels: Record<string, number>;
  /** warn-or-worse messages and how often each was logged. */
  readonly messages: Map<string, number>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
}

/** Everything the benchmark started, so cleanup can stop exactly that. */
export interface BenchSystem {
  readonly workDir: string;
  readonly natsUrl: string;
  sim?: SimEnvironment;
  db?: TestDatabase;
  streams?: { EVENTS_STREAM: string; EVENTS_SUBJECT_PREFIX: string };
  services: ServiceProcess[];
  /** Set once the services run: what the CLI needs to reach spec-service. */
  cliEnv?: Record<string, string>;
}

export async function createBenchSystem(): Promise<BenchSystem> {
  const workDir = await mkdtemp(join(tmpdir(), 'campaigns-bench-'));
  const natsUrl = process.env.NATS_URL?.trim() || 'nats://127.0.0.1:4222';
  return { workDir, natsUrl, services: [] };
}

/**
 * The simulator with `repos` repositories, its state in the work directory, no rate limits for
 * the bot; or, with `limitsTimeScale`, GitHub's limits on and counting time that many times as
 * fast (the rollout benchmark).
 */
export async function startSimulator(
  system: BenchSystem,
  repos: number,
  options: { limitsTimeScale?: number } = {},
): Promise<SimEnvironment> {
  await ensureStepImage();
  const limited = options.limitsTimeScale !== undefined;
  const sim = await startSimEnvironment({
    repos,
    dataDir: join(system.workDir, 'github-sim'),
    // With the simulator's limits off there is nothing to plan publications against.
    ...(limited
      ? { limitsTimeScale: options.limitsTimeScale }
      : { codeHostSettings: 'contentLimits: false' }),
  });
  system.sim = sim;
  if (limited) return sim;
  // Every limit off: primary, search, GraphQL points, secondary content creation, concurrency.
  const unlimited = Number.MAX_SAFE_INTEGER;
  await sim.sim.control.setTokenLimits({
    token: sim.token,
    limits: {
      disabled: true,
      core: unlimited,
      search: unlimited,
      graphql: unlimited,
      contentPerMinute: unlimited,
      contentPerHour: unlimited,
      concurrency: unlimited,
    },
  });
  return sim;
}

/** A fresh database, unique stream names, and the four services, ready, with webhooks to the gateway. */
export async function startCampaigns(
  system: BenchSystem,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const sim = system.sim!;
  system.db = await createTestDatabase('campaigns_bench');
  system.streams = uniqueEventsEnv();
  const stateDir = join(system.workDir, 'state');
  await mkdir(join(system.workDir, 'logs'), { recursive: true });
  const serviceEnv = {
    DATABASE_URL: system.db.url,
    NATS_URL: system.natsUrl,
    HOST: '127.0.0.1',
    ...(await simulatorServiceEnv({ sim, stateDir })),
    ...system.streams,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  for (const name of SERVICE_NAMES) {
    system.services.push(startService(system, name, await freePort(), serviceEnv));
  }
  await Promise.all(system.services.map((service) => waitUntilReady(service)));
  const gateway = system.services.find((s) => s.name === 'webhook-gateway')!;
  await sim.connectWebhooks(`http://127.0.0.1:${gateway.port}/webhooks/github`);
  system.cliEnv = { NATS_URL: system.natsUrl, ...system.streams };
  // The CLI acts as "bench", a site admin bootstrapped on the database as an operator would.
  const bootstrap = await runCli(system, [
    'admin',
    'bootstrap',
    'bench',
    '--database-url',
    system.db.url,
  ]);
  if (bootstrap.code !== 0) throw new Error(`admin bootstrap failed: ${bootstrap.stderr}`);
  system.cliEnv['CAMPAIGN_TOKEN'] = bootstrap.stdout.trim();
}

function startService(
  system: BenchSystem,
  name: ServiceName,
  port: number,
  serviceEnv: Record<string, string>,
): ServiceProcess {
  // As npm start does: the inherited environment, then the service's own variables.
  // BENCH_CPU_PROF_DIR=<dir>: each service writes a V8 CPU profile there when it stops.
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : [];
  const child = spawn(process.execPath, [...profile, join('services', name, 'dist', 'main.js')], {
    cwd: repoRoot,
    env: { ...process.env, ...serviceEnv, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only the benchmark, which stops them.
    detached: true,
  });
  const logFile = join(system.workDir, 'logs', `${name}.log`);
  const log = createWriteStream(logFile);
  const service: ServiceProcess = {
    name,
    port,
    child,
    logFile,
    tail: [],
    levels: {},
    messages: new Map(),
    exit: undefined,
    exited: new Promise((resolve) =>
      child.on('close', (code, signal) => {
        service.exit = { code, signal };
        log.end();
        resolve();
      }),
    ),
  };
  collectLines(child.stdout!, log, service);
  collectLines(child.stderr!, log, service);
  return service;
}

const PINO_LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

function collectLines(
  stream: NodeJS.ReadableStream,
  log: WriteStream,
  service: ServiceProcess,
): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    log.write(chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      service.tail.push(line);
      if (service.tail.length > LOG_TAIL_LINES) service.tail.shift();
      countLevel(service, line);
    }
  });
}

function countLevel(service: ServiceProcess, line: string): void {
  let entry: { level?: unknown; msg?: unknown };
  try {
    entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
  } catch {
    return;
  }
  const level = typeof entry.level === 'number' ? PINO_LEVELS[entry.level] : undefined;
  if (level === undefined) return;
  service.levels[level] = (service.levels[level] ?? 0) + 1;
  const message = `${level}: ${String(entry.msg ?? '').slice(0, 160)}`;
  service.messages.set(message, (service.messages.get(message) ?? 0) + 1);
}

export function isAlive(service: ServiceProcess): boolean {
  return service.exit === undefined;
}

/** Throws when a service has died: nothing the benchmark waits for can happen then. */
export function assertServicesAlive(system: BenchSystem): void {
  const dead = system.services.find((service) => !isAlive(service));
  if (dead) {
    throw new Error(
      `${dead.name} exited (${JSON.stringify(dead.exit)}); its last lines:\n  ${dead.tail.join('\n  ')}`,
    );
  }
}

async function waitUntilReady(service: ServiceProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let detail = 'not polled yet';
  for (;;) {
    if (!isAlive(service)) {
      throw new Error(`${service.name} exited during startup:\n  ${service.tail.join('\n  ')}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${service.port}/readyz`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (response.ok) return;
      detail = `HTTP ${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      detail = (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${service.name} not ready in ${READY_TIMEOUT_MS / 1000} s (${detail})`);
    }
    await sleep(250);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `campaign ARGS` as a user runs it: the built CLI in its own process. */
export function runCli(system: BenchSystem, args: readonly string[]): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'apps', 'cli', 'dist', 'main.js'), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, ...system.cliEnv },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

/** Resident memory of each service, sampled every second: the peak since `resetPhase()`. */
export class RssSampler {
  readonly #phasePeak = new Map<ServiceName, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly system: BenchSystem) {
    this.#timer = setInterval(() => this.sample(), 1_000);
    this.#timer.unref();
  }

  sample(): void {
    for (const service of this.system.services) {
      const kib = procStatusKib(service, 'VmRSS');
      if (kib !== undefined) {
        this.#phasePeak.set(service.name, Math.max(this.#phasePeak.get(service.name) ?? 0, kib));
      }
    }
  }

  resetPhase(): void {
    this.#phasePeak.clear();
    this.sample();
  }

  /** MiB per service, highest VmRSS sampled since the phase began. */
  phasePeakMib(): Record<string, number> {
    this.sample();
    return Object.fromEntries([...this.#phasePeak].map(([name, kib]) => [name, mib(kib)]));
  }

  /** MiB per service: the kernel's high-water mark of the whole run (VmHWM). */
  highWaterMib(): Record<string, number | null> {
    return Object.fromEntries(
      this.system.services.map((service) => {
        const kib = procStatusKib(service, 'VmHWM');
        return [service.name, kib === undefined ? null : mib(kib)];
      }),
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

function procStatusKib(service: ServiceProcess, field: 'VmRSS' | 'VmHWM'): number | undefined {
  if (!isAlive(service) || service.child.pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${service.child.pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops what the benchmark started: SIGTERM to each service (SIGKILL after 20 s), the simulator,
 * then the database, the streams and the work directory, unless `keep`. Safe to call twice.
 */
export async function cleanup(system: BenchSystem, keep: boolean): Promise<void> {
  const live = system.services.filter(isAlive);
  for (const service of live) service.child.kill('SIGTERM');
  const stopped = Promise.all(live.map((service) => service.exited));
  if ((await Promise.race([stopped.then(() => true), sleep(STOP_TIMEOUT_MS)])) !== true) {
    for (const service of live.filter(isAlive)) {
      say(`${service.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`);
      service.child.kill('SIGKILL');
    }
    await Promise.race([stopped, sleep(2_000)]);
  }
  const sim = system.sim;
  system.sim = undefined;
  await sim?.stop().catch((error: Error) => say(`stopping the simulator: ${error.message}`));
  if (keep) {
    if (system.db) {
      await system.db.pool.end().catch(() => undefined);
      say(`kept database ${system.db.url}`);
    }
    if (system.streams) {
      const stream = system.streams.EVENTS_STREAM;
      say(`kept JetStream streams ${stream} and ${stream}_JOBS on ${system.natsUrl}`);
    }
    say(`kept ${system.workDir} (service logs in logs/, simulator state in github-sim/)`);
    return;
  }
  const db = system.db;
  system.db = undefined;
  await db?.drop().catch((error: Error) => say(`dropping ${db.name}: ${error.message}`));
  const streams = system.streams;
  system.streams = undefined;
  if (streams) {
    await deleteStreams(system.natsUrl, [
      streams.EVENTS_STREAM,
      `${streams.EVENTS_STREAM}_JOBS`,
    ]).catch((error: Error) => say(`deleting the streams: ${error.message}`));
  }
  await rm(system.workDir, { recursive: true, force: true });
}

async function deleteStreams(natsUrl: string, names: string[]): Promise<void> {
  const nats = await connect({ servers: natsUrl.split(',') });
  try {
    const jsm = await jetstreamManager(nats);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nats.close();
  }
}
