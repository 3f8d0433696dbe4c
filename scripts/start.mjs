#!/usr/bin/env node
// `npm start`: from a fresh clone to four ready services. Installs dependencies when needed,
// builds, checks PostgreSQL, runs a closed NATS JetStream of its own (deploy/nats/nats.conf;
// unless NATS_URL names one), creates the database, starts the services with readable prefixed
// logs, waits until each /readyz answers and prints where they listen. Ctrl-C (or SIGTERM) stops
// them gracefully, and the NATS. Later issues append steps to `steps` below
// (for example: apply the hello-world campaign and follow it to its changesets).
//
// Usage: npm start [-- --json]   (--json prints the services' raw JSON log lines on stdout)

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findNatsServer } from './nats-server-binary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SERVICES = [
  { name: 'spec-service', defaultPort: 3101 },
  { name: 'executor-service', defaultPort: 3102 },
  { name: 'reconciler-service', defaultPort: 3103 },
  { name: 'webhook-gateway', defaultPort: 3104 },
  { name: 'dashboard', defaultPort: 3105 },
];
const DEFAULT_NATS_PORT = 4223;
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;
const CONNECT_TIMEOUT_MS = 5_000;
const LOG_TAIL_LINES = 15;

// ---------------------------------------------------------------------------------------------
// Output

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const PREFIX_WIDTH = Math.max(...SERVICES.map((s) => s.name.length));
const SERVICE_COLORS = ['36', '35', '33', '32', '34'];

// A closed stdout (e.g. `npm start | head`) must not crash the supervisor while services run.
process.stdout.on('error', () => undefined);

// With --json, stdout carries only the services' own JSON lines (each names its service), so
// `npm start --silent -- --json | jq` works; everything else goes to stderr.
let jsonOutput = false;

function say(message) {
  const stream = jsonOutput ? process.stderr : process.stdout;
  stream.write(`${paint('1', 'campaigns'.padEnd(PREFIX_WIDTH))} │ ${message}\n`);
}

/** Prints one line a service wrote and returns the form shown, for error reports. */
function printServiceLine(service, line) {
  const prefix = paint(service.color, service.name.padEnd(PREFIX_WIDTH));
  if (!jsonOutput) {
    const shown = formatLogLine(line);
    process.stdout.write(`${prefix} │ ${shown}\n`);
    return shown;
  }
  if (isJsonObject(line)) process.stdout.write(`${line}\n`);
  else process.stderr.write(`${prefix} │ ${line}\n`);
  return line;
}

function isJsonObject(line) {
  try {
    const value = JSON.parse(line);
    return value !== null && typeof value === 'object';
  } catch {
    return false;
  }
}

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLORS = { WARN: '33', ERROR: '31', FATAL: '31;1', DEBUG: '2', TRACE: '2' };
// Fields every pino line carries that add nothing when read in a terminal.
const QUIET_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'service', 'v']);

/** Turns one pino JSON line into `12:00:01 INFO  message key=value`; other lines pass through. */
function formatLogLine(line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object' || !('level' in entry || 'msg' in entry))
    return line;
  const level =
    typeof entry.level === 'number'
      ? (LEVELS[entry.level] ?? String(entry.level))
      : String(entry.level).toUpperCase();
  const time =
    typeof entry.time === 'number' || typeof entry.time === 'string'
      ? new Date(entry.time)
      : undefined;
  const clock = time && !Number.isNaN(time.getTime()) ? `${time.toTimeString().slice(0, 8)} ` : '';
  const extras = Object.entries(entry)
    .filter(([key]) => !QUIET_FIELDS.has(key))
    .map(([key, value]) => `${key}=${compactValue(key, value)}`);
  const message = [entry.msg ?? '', ...extras].filter(Boolean).join(' ');
  return `${paint('2', clock)}${paint(LEVEL_COLORS[level] ?? '0', level.padEnd(5))} ${message}`;
}

function compactValue(key, value) {
  if (key === 'err' && value && typeof value === 'object' && 'message' in value) {
    return JSON.stringify(`${value.type ?? 'Error'}: ${value.message}`);
  }
  const text = typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

// ---------------------------------------------------------------------------------------------
// Configuration

/** An environment variable's value; unset and empty both mean "use the default", as in the services. */
function env(name) {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

/** Where things are, from the same environment variables the services read. */
function readConfig(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new StartError(error.message, HELP.split('\n'));
  }
  const host = env('HOST') ?? '127.0.0.1';
  const stateDir = path.join(root, '.campaigns');
  const natsPort = portOf('CAMPAIGNS_NATS_PORT', DEFAULT_NATS_PORT);
  return {
    json: values.json,
    help: values.help,
    databaseUrl: env('DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/campaigns',
    natsUrl: env('NATS_URL') ?? `nats://127.0.0.1:${natsPort}`,
    // Unless NATS_URL names a NATS, npm start runs its own, closed as deployments run it.
    ownNats: env('NATS_URL')
      ? undefined
      : {
          port: natsPort,
          storeDir: path.join(stateDir, 'nats'),
          pidFile: path.join(stateDir, 'nats-server.pid'),
          passwordsFile: path.join(stateDir, 'nats-passwords.json'),
          /** Filled in when it runs: the passwords of its `services` and `cli` users. */
          passwords: undefined,
        },
    host,
    // A service bound to every interface is still reached through loopback.
    probeHost: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host,
    // With CAMPAIGNS_CONFIG set, the services use that configuration (e.g. a real GitHub) and
    // npm start neither runs the simulator nor applies the example.
    ownConfig: env('CAMPAIGNS_CONFIG'),
    stateDir,
    simPort: Number(env('GITHUB_SIM_PORT') ?? 3100),
    sampleRepos: Number(env('CAMPAIGNS_SAMPLE_REPOS') ?? 8),
    /** Filled in by the steps: environment every service gets. */
    serviceEnv: {},
    services: SERVICES.map((service, index) => {
      const portVariable = `${service.name.toUpperCase().replaceAll('-', '_')}_PORT`;
      return {
        ...service,
        portVariable,
        port: portOf(portVariable, service.defaultPort),
        entry: path.join('services', service.name, 'dist', 'main.js'),
        color: SERVICE_COLORS[index % SERVICE_COLORS.length],
      };
    }),
  };
}

/** The port an environment variable names, or its default. */
function portOf(variable, defaultPort) {
  const port = Number(env(variable) ?? defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new StartError(
      `${variable} must be a port number from 1 to 65535, got "${env(variable)}".`,
    );
  }
  return port;
}

const HELP = `npm start [-- --json]

Installs dependencies if needed, builds, checks PostgreSQL, runs NATS JetStream, creates the
database and starts the services and the dashboard, printing where each listens. Ctrl-C stops them.

  --json   print the services' raw JSON log lines on stdout (and everything else on
           stderr) instead of the compact form

Then (unless CAMPAIGNS_CONFIG is set) it starts the GitHub simulator on GITHUB_SIM_PORT (3100)
with CAMPAIGNS_SAMPLE_REPOS (8) sample repositories, points the services and its webhooks at
it, applies examples/hello-world.campaign.yaml with \`published: true\`, waits for the pull
requests and prints them. State is kept in .campaigns/ (delete it, and the database, to start over).

Once the services are ready it creates the demo users "admin" (a site admin) and "demo", keeps
their tokens in .campaigns/demo-tokens.json and logs the CLI in as demo (unless it is logged in
already), so \`npx campaign status hello-world -n demo\` works in another terminal (hello-world is
applied as demo, into its namespace).

NATS: npm start runs its own nats-server (it must be installed), closed as deployments run it:
deploy/nats/nats.conf on 127.0.0.1:CAMPAIGNS_NATS_PORT (4223), JetStream in .campaigns/nats. Its
two users' passwords are generated once and kept in .campaigns/nats-passwords.json (0600); the
services connect as "services", the CLI as "cli" (npm start saves where NATS is, and the cli
user, in the CLI's config file ~/.config/campaign/config.json). Ctrl-C stops it with the services.
With NATS_URL set, npm start uses that NATS instead and starts none: NATS_USER and NATS_PASSWORD
(or NATS_PASSWORD_FILE) are then the user the services connect as (services, for a NATS run with
deploy/nats/nats.conf); the CLI in another terminal needs NATS_URL and its own user exported.

Environment: DATABASE_URL, NATS_URL, NATS_USER, NATS_PASSWORD, NATS_PASSWORD_FILE,
CAMPAIGNS_NATS_PORT, HOST, LOG_LEVEL, CAMPAIGNS_CONFIG, and per-service ports
SPEC_SERVICE_PORT (3101), EXECUTOR_SERVICE_PORT (3102), RECONCILER_SERVICE_PORT (3103),
WEBHOOK_GATEWAY_PORT (3104), DASHBOARD_PORT (3105: the web dashboard).`;

/** The URL without its password, for messages. */
function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** An error meant for the person running `npm start`: what failed and what to do. */
class StartError extends Error {
  constructor(message, details = []) {
    super(message);
    this.details = details;
  }
}

// ---------------------------------------------------------------------------------------------
// Supervision: the processes we started, and stopping them

const state = {
  /** The setup command running now (npm ci, the build), if any. */
  command: undefined,
  /** Services started so far, with their processes and recent output. */
  running: [],
  stopping: false,
  /** The GitHub simulator, when npm start runs one. */
  simulator: undefined,
  /** npm start's own nats-server, when it runs one: its process, recent output and exit. */
  nats: undefined,
};

function isAlive(child) {
  return child.exitCode === null && child.signalCode === null;
}

function describeExit({ code, signal }) {
  return signal ? `signal ${signal}` : `code ${code}`;
}

/** Runs a setup command with its output on our terminal; rejects with a StartError if it fails. */
function runCommand(command, args, failure, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', jsonOutput ? 2 : 'inherit', 'inherit'],
    });
    state.command = child;
    child.on('error', (error) => reject(new StartError(`${failure}: ${error.message}`)));
    child.on('exit', (code, signal) => {
      state.command = undefined;
      if (code === 0) resolve();
      else
        reject(
          new StartError(
            `${failure} (\`${[command, ...args].join(' ')}\` exited with ${describeExit({ code, signal })})`,
          ),
        );
    });
  });
}

function startService(config, service) {
  const env = {
    ...process.env,
    DATABASE_URL: config.databaseUrl,
    NATS_URL: config.natsUrl,
    HOST: config.host,
    PORT: String(service.port),
    ...config.serviceEnv,
  };
  // Own process group: a terminal's Ctrl-C reaches only us, and we decide how the services stop.
  const child = spawn(process.execPath, [service.entry], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const running = { ...service, child, tail: [], exit: undefined };
  const onLine = (line) => {
    running.tail.push(printServiceLine(service, line));
    if (running.tail.length > LOG_TAIL_LINES) running.tail.shift();
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  // 'close' rather than 'exit': by then every line the service wrote has been read.
  running.exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      running.exit = { code, signal };
      resolve(running.exit);
    });
  });
  running.exited.then((exit) => {
    if (!state.stopping) {
      fail(
        new StartError(
          `${service.name} exited unexpectedly with ${describeExit(exit)}.`,
          tailDetails(running),
        ),
      );
    }
  });
  state.running.push(running);
  return running;
}

function tailDetails(running) {
  if (running.tail.length === 0) return [`${running.name} printed nothing.`];
  return [`Last lines from ${running.name}:`, ...running.tail.map((line) => `  ${line}`)];
}

/** SIGTERM to every live service, then wait (bounded); true when all stopped cleanly. */
async function stopServices() {
  const live = state.running.filter((running) => isAlive(running.child));
  for (const running of live) {
    try {
      process.kill(running.child.pid, 'SIGTERM');
    } catch {
      // Already gone between the check and the signal.
    }
  }
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, STOP_TIMEOUT_MS);
  });
  await Promise.race([Promise.all(live.map((running) => running.exited)), timeout]);
  clearTimeout(timer);
  let clean = true;
  for (const running of live) {
    if (running.exit === undefined) {
      clean = false;
      say(`${running.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it.`);
      running.child.kill('SIGKILL');
      await Promise.race([running.exited, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    } else if (running.exit.code === 0 || running.exit.signal === 'SIGTERM') {
      say(`${running.name} stopped.`);
    } else {
      clean = false;
      say(`${running.name} stopped with ${describeExit(running.exit)}.`);
    }
  }
  return clean;
}

async function stopSimulator() {
  if (!state.simulator) return;
  await state.simulator.stop().catch(() => undefined);
  say('GitHub simulator stopped.');
}

/** Stops our nats-server, last: the services drain their connections to it as they stop. */
async function stopNats() {
  const nats = state.nats;
  if (!nats || !isAlive(nats.child)) return;
  try {
    process.kill(nats.child.pid, 'SIGTERM');
  } catch {
    // Gone between the check and the signal.
  }
  let timer;
  const stopped = await Promise.race([
    nats.exited.then(() => true),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!stopped) {
    say(`nats-server did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it.`);
    nats.child.kill('SIGKILL');
    await Promise.race([nats.exited, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  }
  say('NATS stopped.');
}

/** Reports a failure, stops whatever we started and exits 1. Only the first failure is reported. */
async function fail(error) {
  if (state.stopping) return;
  state.stopping = true;
  if (error instanceof StartError) {
    say(paint('31', `✗ ${error.message}`));
    for (const line of error.details) say(line);
  } else {
    say(paint('31', `✗ npm start failed unexpectedly: ${error?.stack ?? error}`));
  }
  if (state.command && isAlive(state.command)) state.command.kill('SIGTERM');
  if (state.running.some((running) => isAlive(running.child))) {
    say('Stopping the services...');
    await stopServices();
  }
  await stopSimulator();
  await stopNats();
  process.exit(1);
}

async function onSignal(signal) {
  // npm forwards the terminal's Ctrl-C to us as well, so one keypress can arrive twice; the stop
  // under way is bounded by STOP_TIMEOUT_MS anyway.
  if (state.stopping) return;
  state.stopping = true;
  if (state.running.length === 0) {
    if (state.command && isAlive(state.command)) state.command.kill('SIGTERM');
    say(`Interrupted (${signal}).`);
    await stopNats();
    process.exit(130);
  }
  say(`${signal} received: stopping the services...`);
  const clean = await stopServices();
  await stopSimulator();
  await stopNats();
  say(clean ? 'All services stopped.' : 'Some services did not stop cleanly.');
  process.exit(clean ? 0 : 1);
}

// Last resort if we exit by an unexpected path: never leave detached services (or NATS) behind.
process.on('exit', () => {
  for (const running of state.running) if (isAlive(running.child)) running.child.kill('SIGKILL');
  if (state.nats && isAlive(state.nats.child)) state.nats.child.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------
// Steps

// package.json's engines (^22.13 || >=24.11) is what the dependencies declare; Node.js 20.19 still
// runs everything (the tests run on it) but is outside that, so it gets a warning, not a refusal.
function checkNodeVersion() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    throw new StartError(
      `Node.js ${process.versions.node} is too old; Campaigns needs Node.js 22.13 or newer (20.19 at the least).`,
    );
  }
  const supported = (major === 22 && minor >= 13) || (major === 24 && minor >= 11) || major >= 25;
  if (!supported) {
    say(
      `Node.js ${process.versions.node} runs Campaigns, but its dependencies declare Node.js ^22.13 || >=24.11: use that in production.`,
    );
  }
}

/** `npm ci` when node_modules is missing or older than package-lock.json. */
async function installDependencies() {
  const lock = path.join(root, 'package-lock.json');
  // npm writes this file at the end of every install; its age is the install's age.
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) {
    say('node_modules is up to date with package-lock.json.');
    return;
  }
  await runCommand('npm', ['ci', '--no-audit', '--no-fund'], 'Installing dependencies failed');
}

async function build() {
  await runCommand(
    'npm',
    ['run', 'build', '--silent'],
    'The build failed; fix the errors above and run npm start again',
  );
  const missing = SERVICES.map((s) => path.join('services', s.name, 'dist', 'main.js')).filter(
    (entry) => !existsSync(path.join(root, entry)),
  );
  if (missing.length > 0) {
    throw new StartError(`The build did not produce ${missing.join(', ')}.`);
  }
}

const POSTGRES_HINT = [
  'Start PostgreSQL, for example:',
  '  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   (Debian/Ubuntu)',
  '  sudo systemctl start postgresql',
  'or point DATABASE_URL at a running server.',
];
const NATS_HINT = [
  'Start it, or point NATS_URL at a NATS with JetStream that runs;',
  'or unset NATS_URL: npm start then runs a NATS of its own.',
];

/** Connects to the server's `postgres` database and creates the configured database if missing. */
async function prepareDatabase(config) {
  const { default: pg } = await import('pg');
  const target = new URL(config.databaseUrl);
  const databaseName = decodeURIComponent(target.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(config.databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const where = `${target.hostname}:${target.port || 5432}`;
    if (
      error.code === 'ECONNREFUSED' ||
      error.code === 'ENOTFOUND' ||
      /timeout/i.test(error.message)
    ) {
      throw new StartError(
        `PostgreSQL does not answer at ${where} (${error.code ?? error.message}).`,
        POSTGRES_HINT,
      );
    }
    throw new StartError(`PostgreSQL at ${where} refused the connection: ${error.message}`, [
      `DATABASE_URL is ${redact(config.databaseUrl)}; the local default expects trust authentication for postgres.`,
    ]);
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      databaseName,
    ]);
    if (rowCount > 0) {
      say(`PostgreSQL answers; database ${databaseName} exists.`);
      return;
    }
    try {
      await client.query(`CREATE DATABASE "${databaseName.replaceAll('"', '""')}"`);
      say(`PostgreSQL answers; created database ${databaseName}.`);
    } catch (error) {
      // 42P04: someone else created it between our check and our CREATE.
      if (error.code !== '42P04') {
        throw new StartError(`Could not create database ${databaseName}: ${error.message}`);
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The NATS that NATS_URL names must answer, as the user NATS_USER and NATS_PASSWORD (or the file
 * NATS_PASSWORD_FILE names) say, the way the services read them, and have JetStream enabled.
 */
async function checkNats(config) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const { natsConnectTarget, readOptionalSecretVariable } = await import('@campaigns/events');
  const password = readOptionalSecretVariable(process.env, 'NATS_PASSWORD');
  if (password?.problem !== undefined) throw new StartError(`NATS: ${password.problem}.`);
  let connection;
  try {
    connection = await connect({
      ...natsConnectTarget(config.natsUrl, { user: env('NATS_USER'), pass: password?.value }),
      timeout: CONNECT_TIMEOUT_MS,
      reconnect: false,
    });
  } catch (error) {
    if (/authori[sz]ation/i.test(error.message)) {
      throw new StartError(`NATS at ${redact(config.natsUrl)} refused the connection.`, [
        'Set NATS_USER and NATS_PASSWORD (or NATS_PASSWORD_FILE) to the user the services connect as',
        '(services, for a NATS run with deploy/nats/nats.conf).',
      ]);
    }
    throw new StartError(
      `NATS does not answer at ${redact(config.natsUrl)} (${error.message}).`,
      NATS_HINT,
    );
  }
  try {
    await jetstreamManager(connection, { timeout: CONNECT_TIMEOUT_MS });
    say('NATS answers with JetStream enabled.');
  } catch (error) {
    throw new StartError(`NATS at ${redact(config.natsUrl)} has no JetStream (${error.message}).`, [
      'Restart nats-server with -js (and -sd <directory> for file storage).',
    ]);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** The nats-server binary npm start runs; a StartError saying how to get one when there is none. */
function natsServerBinary() {
  const found = findNatsServer();
  if (found !== undefined) return found;
  throw new StartError('nats-server is not installed: npm start runs a NATS of its own.', [
    'Install it, for example:',
    '  apt-get install nats-server   (Debian/Ubuntu)',
    '  brew install nats-server      (macOS)',
    '  or a release from https://github.com/nats-io/nats-server/releases, on PATH',
    'or point NATS_URL at a NATS with JetStream that runs (README.md, "The broker is not open").',
  ]);
}

/** The passwords of our NATS's two users: generated once, kept in .campaigns/ for its owner alone. */
async function natsPasswords(own) {
  const { chmod, mkdir, writeFile } = await import('node:fs/promises');
  let saved;
  try {
    saved = JSON.parse(readFileSync(own.passwordsFile, 'utf8'));
  } catch {
    saved = undefined;
  }
  const usable = (value) => typeof value === 'string' && value.length >= 24;
  if (usable(saved?.services) && usable(saved?.cli)) {
    await chmod(own.passwordsFile, 0o600);
    return { services: saved.services, cli: saved.cli };
  }
  // URL-safe, so a password can also go into a URL unescaped.
  const passwords = {
    services: randomBytes(24).toString('base64url'),
    cli: randomBytes(24).toString('base64url'),
  };
  await mkdir(path.dirname(own.passwordsFile), { recursive: true, mode: 0o700 });
  await writeFile(own.passwordsFile, `${JSON.stringify(passwords, null, 2)}\n`, { mode: 0o600 });
  await chmod(own.passwordsFile, 0o600);
  return passwords;
}

/** The pid in our pid file, when that process still runs a nats-server; undefined otherwise. */
function earlierNatsServer(own) {
  let pid;
  try {
    pid = Number(readFileSync(own.pidFile, 'utf8').trim());
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nats-server') ? pid : undefined;
  } catch {
    // No /proc (macOS): the pid file's process is alive, and most likely still ours.
    return pid;
  }
}

const NATS_START_TIMEOUT_MS = 20_000;
const NATS_SERVER = { name: 'nats-server', color: '2' };

/**
 * Our own NATS, closed as deployments run it (deploy/nats/nats.conf): on 127.0.0.1 only, JetStream
 * in .campaigns/nats, its passwords handed over in its environment (never on its command line).
 * The services connect as `services`, the CLI as `cli`.
 */
async function startNats(config) {
  const own = config.ownNats;
  const binary = natsServerBinary();
  if (!(await portIsFree('127.0.0.1', own.port))) {
    const pid = earlierNatsServer(own);
    if (pid !== undefined) {
      throw new StartError(
        `Port ${own.port} is taken by the nats-server an earlier npm start ran (pid ${pid}); it still runs.`,
        [
          'Is that npm start still running? Stop it (Ctrl-C there) and run npm start again.',
          `If it is gone and left its nats-server behind: kill ${pid}`,
        ],
      );
    }
    throw new StartError(`Port ${own.port} on 127.0.0.1, wanted by npm start's NATS, is in use.`, [
      'Choose another with CAMPAIGNS_NATS_PORT=<port> npm start,',
      'or point NATS_URL at a NATS you run (README.md, "The broker is not open").',
    ]);
  }
  own.passwords = await natsPasswords(own);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(own.storeDir, { recursive: true, mode: 0o700 });
  const args = ['-c', path.join('deploy', 'nats', 'nats.conf'), '-a', '127.0.0.1'];
  args.push('-p', String(own.port), '-sd', own.storeDir, '-P', own.pidFile);
  // Own process group, as the services: Ctrl-C reaches us, and we stop it after them.
  const child = spawn(binary, args, {
    cwd: root,
    env: {
      ...process.env,
      CAMPAIGNS_NATS_SERVICES_PASSWORD: own.passwords.services,
      CAMPAIGNS_NATS_CLI_PASSWORD: own.passwords.cli,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const nats = { child, tail: [], exit: undefined, name: NATS_SERVER.name };
  const onLine = (line) => {
    nats.tail.push(line);
    if (nats.tail.length > LOG_TAIL_LINES) nats.tail.shift();
    // Its notices ([INF]) are its banner; warnings and errors are worth seeing, but for the one
    // about plaintext passwords: nats.conf takes them from the environment, on purpose.
    if (!/\[INF\]|Plaintext passwords detected/.test(line)) printServiceLine(NATS_SERVER, line);
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  nats.exited = new Promise((resolve) => {
    child.on('error', (error) => {
      nats.tail.push(error.message);
      nats.exit = { code: -1, signal: null };
      resolve(nats.exit);
    });
    child.on('close', (code, signal) => {
      nats.exit = { code, signal };
      resolve(nats.exit);
    });
  });
  state.nats = nats;
  nats.exited.then((exit) => {
    if (!state.stopping) {
      fail(
        new StartError(
          `nats-server exited unexpectedly with ${describeExit(exit)}.`,
          tailDetails(nats),
        ),
      );
    }
  });

  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const deadline = Date.now() + NATS_START_TIMEOUT_MS;
  for (;;) {
    if (state.stopping) return;
    try {
      const connection = await connect({
        servers: config.natsUrl,
        user: 'services',
        pass: own.passwords.services,
        timeout: 1_000,
        reconnect: false,
      });
      try {
        await jetstreamManager(connection, { timeout: CONNECT_TIMEOUT_MS });
      } finally {
        await connection.close().catch(() => undefined);
      }
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new StartError(
          `nats-server did not accept the services' user within ${NATS_START_TIMEOUT_MS / 1000} s (${error.message}).`,
          tailDetails(nats),
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The services' user and password go in their environment only.
  Object.assign(config.serviceEnv, {
    NATS_USER: 'services',
    NATS_PASSWORD: own.passwords.services,
    NATS_PASSWORD_FILE: '',
  });
  say(
    `NATS (deploy/nats/nats.conf, closed) at ${config.natsUrl}, JetStream in ${path.relative(root, own.storeDir)}; its users' passwords are in ${path.relative(root, own.passwordsFile)}.`,
  );
}

function portIsFree(host, port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function checkPortsAreFree(config) {
  for (const service of config.services) {
    if (!(await portIsFree(config.host, service.port))) {
      throw new StartError(
        `Port ${service.port} on ${config.host}, wanted by ${service.name}, is already in use.`,
        [
          'Is another `npm start` (or docker compose) running? Stop it,',
          `or choose another port with ${service.portVariable}=<port> npm start.`,
        ],
      );
    }
  }
}

async function startServices(config) {
  for (const service of config.services) {
    startService(config, service);
  }
  say(`Started ${config.services.map((s) => s.name).join(', ')}.`);
}

async function probe(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const body = await response.text();
    return { ok: response.status === 200, detail: `HTTP ${response.status} ${body.slice(0, 200)}` };
  } catch (error) {
    return { ok: false, detail: error.cause?.code ?? error.message };
  }
}

/** Polls every service's /readyz until all answer 200; bounded by READY_TIMEOUT_MS. */
async function waitUntilReady(config) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const pending = new Map(
    state.running.map((running) => [running.name, { running, detail: 'not polled yet' }]),
  );
  while (pending.size > 0) {
    if (state.stopping) return;
    for (const [name, entry] of pending) {
      const result = await probe(`http://${config.probeHost}:${entry.running.port}/readyz`);
      if (result.ok) {
        pending.delete(name);
        say(`${name} is ready.`);
      } else {
        entry.detail = result.detail;
      }
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const [name, entry] = pending.entries().next().value;
      throw new StartError(
        `${name} was not ready within ${READY_TIMEOUT_MS / 1000} s (last /readyz answer: ${entry.detail}).`,
        tailDetails(entry.running),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function printEndpoints(config) {
  const base = (service) => `http://${config.probeHost}:${service.port}`;
  const rows = [
    ['service', 'healthz', 'readyz', 'metrics'],
    ...config.services.map((service) => [
      service.name,
      `${base(service)}/healthz`,
      `${base(service)}/readyz`,
      `${base(service)}/metrics`,
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const format = (row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  say('');
  say(paint('1', format(rows[0])));
  for (const row of rows.slice(1)) say(format(row));
  say('');
  const whose = config.ownNats ? " (npm start's own, closed)" : '';
  say(`PostgreSQL ${redact(config.databaseUrl)} · NATS ${redact(config.natsUrl)}${whose}`);
  const dashboard = config.services.find((s) => s.name === 'dashboard');
  say(`All services are ready. The dashboard: ${base(dashboard)}/`);
}

/** The executor runs steps in containers: Docker must answer (started here when we can). */
async function checkDocker() {
  if (await dockerAnswers()) {
    say('Docker answers.');
    return;
  }
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    throw new StartError('Docker does not answer (`docker info` failed).', DOCKER_HINT);
  }
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) {
    say("Installing Debian's docker.io...");
    await runCommand('apt-get', ['update', '-qq'], 'apt-get update failed');
    await runCommand(
      'apt-get',
      ['install', '-y', '-qq', 'docker.io', 'busybox-static'],
      'Installing docker.io failed',
    );
  }
  say('Starting dockerd in the background (log: /var/log/dockerd.log)...');
  const { openSync } = await import('node:fs');
  const log = openSync('/var/log/dockerd.log', 'a');
  spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
  const deadline = Date.now() + 60_000;
  while (!(await dockerAnswers())) {
    if (Date.now() > deadline) {
      throw new StartError('dockerd did not answer within 60 s.', [
        'See /var/log/dockerd.log.',
        ...DOCKER_HINT,
      ]);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  say('Docker answers.');
}

const DOCKER_HINT = [
  'Install and start Docker, for example (Debian, as root):',
  '  apt-get install -y docker.io && dockerd &',
];

function dockerAnswers() {
  return new Promise((resolve) => {
    const child = spawn('docker', ['info'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/** The image hello-world's step uses; built from busybox-static when no registry can provide it. */
async function prepareStepImage(config) {
  if (config.ownConfig) return;
  const { ensureStepImage, STEP_IMAGE } = await import('../tools/campaigns-system/dist/index.js');
  try {
    await ensureStepImage();
  } catch (error) {
    throw new StartError(`Could not provide the image ${STEP_IMAGE}: ${error.message}`, [
      'Install busybox-static (apt-get install -y busybox-static), or docker pull alpine:3.',
    ]);
  }
  say(`Image ${STEP_IMAGE} is present.`);
}

/**
 * The GitHub simulator as the code host, unless CAMPAIGNS_CONFIG names a real one. Its state,
 * the bot's token and the webhook secret live in .campaigns/, so a second npm start carries on
 * with the same repositories, pull requests and hook.
 */
async function startSimulator(config) {
  if (config.ownConfig) {
    config.serviceEnv.CAMPAIGNS_CONFIG = config.ownConfig;
    say(`Using the code hosts of ${config.ownConfig}; not starting the simulator.`);
    return;
  }
  const { startSimEnvironment, simulatorServiceEnv } =
    await import('../tools/campaigns-system/dist/index.js');
  const { mkdir, readFile, writeFile } = await import('node:fs/promises');
  await mkdir(config.stateDir, { recursive: true });
  const credentialsFile = path.join(config.stateDir, 'simulator.json');
  const saved = existsSync(credentialsFile)
    ? JSON.parse(await readFile(credentialsFile, 'utf8'))
    : {};
  if (!(await portIsFree('127.0.0.1', config.simPort))) {
    throw new StartError(`Port ${config.simPort}, wanted by the GitHub simulator, is in use.`, [
      'Choose another with GITHUB_SIM_PORT=<port> npm start.',
    ]);
  }
  const sim = await startSimEnvironment({
    repos: config.sampleRepos,
    port: config.simPort,
    dataDir: path.join(config.stateDir, 'github-sim'),
    ...(saved.token ? { token: saved.token, webhookSecret: saved.webhookSecret } : {}),
  });
  state.simulator = sim;
  Object.assign(config.serviceEnv, await simulatorServiceEnv({ sim, stateDir: config.stateDir }));
  const gateway = config.services.find((s) => s.name === 'webhook-gateway');
  const hookUrl = `http://${config.probeHost}:${gateway.port}/webhooks/github`;
  if (saved.hookUrl !== hookUrl) await sim.connectWebhooks(hookUrl);
  await writeFile(
    credentialsFile,
    JSON.stringify({ token: sim.token, webhookSecret: sim.webhookSecret, hookUrl }, null, 2),
    { mode: 0o600 },
  );
  say(
    `GitHub simulator at ${sim.sim.url} with ${config.sampleRepos} repositories in ${sim.org}; webhooks → ${hookUrl}`,
  );
}

const CLI_ENTRY = path.join(root, 'apps', 'cli', 'dist', 'main.js');

/**
 * Where the CLI we run finds NATS: our own as its `cli` user (the account that reaches only the
 * API), or the NATS_URL given, with whatever NATS_USER and NATS_PASSWORD the environment has.
 */
function cliNatsEnv(config) {
  if (!config.ownNats) return { NATS_URL: config.natsUrl };
  return {
    NATS_URL: config.natsUrl,
    NATS_USER: 'cli',
    NATS_PASSWORD: config.ownNats.passwords.cli,
    NATS_PASSWORD_FILE: '',
  };
}

/** No NATS settings in the environment: the CLI reads them from its config file, as in a new shell. */
const NATS_FROM_CONFIG_FILE = {
  NATS_URL: '',
  NATS_USER: '',
  NATS_PASSWORD: '',
  NATS_PASSWORD_FILE: '',
};

/** `campaign ARGS` with its output captured (tokens must not reach the terminal unasked). */
function captureCli(config, args, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      cwd: root,
      env: {
        ...process.env,
        ...cliNatsEnv(config),
        DATABASE_URL: config.databaseUrl,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) => resolve({ code: -1, stdout, stderr: error.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A token from an earlier npm start that spec-service still accepts, or undefined. */
async function stillValid(config, token) {
  if (typeof token !== 'string' || !token.startsWith('cmp_')) return undefined;
  const who = await captureCli(config, ['whoami'], { CAMPAIGN_TOKEN: token });
  return who.code === 0 ? token : undefined;
}

/**
 * The demo users (README, "Users and access tokens"): "admin", a site admin bootstrapped on the
 * database as an operator does, and "demo", created by admin through the API. Their tokens are
 * kept in .campaigns/demo-tokens.json (0600) and reused while spec-service accepts them. The CLI
 * in another terminal finds demo's token: npm start logs it in unless a token that still works is
 * saved already.
 */
async function createDemoUsers(config) {
  const { mkdir, readFile, writeFile } = await import('node:fs/promises');
  await mkdir(config.stateDir, { recursive: true });
  const file = path.join(config.stateDir, 'demo-tokens.json');
  const saved = existsSync(file) ? JSON.parse(await readFile(file, 'utf8')) : {};
  let admin = await stillValid(config, saved.admin);
  if (!admin) {
    const bootstrap = await captureCli(config, ['admin', 'bootstrap', 'admin']);
    if (bootstrap.code !== 0)
      throw new StartError(`Could not bootstrap the admin user: ${bootstrap.stderr.trim()}`);
    admin = bootstrap.stdout.trim();
  }
  let demo = await stillValid(config, saved.demo);
  if (!demo) {
    const asAdmin = { CAMPAIGN_TOKEN: admin };
    const created = await captureCli(config, ['admin', 'users', 'create', 'demo'], asAdmin);
    if (created.code !== 0 && !created.stderr.includes('exists already'))
      throw new StartError(`Could not create the demo user: ${created.stderr.trim()}`);
    const issued = await captureCli(config, ['admin', 'tokens', 'create', 'demo'], asAdmin);
    if (issued.code !== 0)
      throw new StartError(`Could not create demo's token: ${issued.stderr.trim()}`);
    demo = issued.stdout.trim();
  }
  await writeFile(file, `${JSON.stringify({ admin, demo }, null, 2)}\n`, { mode: 0o600 });
  config.demoToken = demo;
  // Our NATS, as the cli user, in the CLI's config file: a new shell needs no exports. A saved
  // token stays as it is.
  let cliEnv = { CAMPAIGN_TOKEN: '' };
  if (config.ownNats) {
    const { saveNatsSettings } = await import('../apps/cli/dist/commands/credentials.js');
    const saved = await saveNatsSettings(process.env, {
      url: config.natsUrl,
      user: 'cli',
      password: config.ownNats.passwords.cli,
    });
    say(`The CLI finds this NATS through ${saved} (as its cli user).`);
    cliEnv = { ...cliEnv, ...NATS_FROM_CONFIG_FILE };
  }
  // The CLI's own saved token, unless one that still works is there (someone's real login).
  const own = await captureCli(config, ['whoami'], cliEnv);
  if (own.code !== 0) {
    const login = spawn(process.execPath, [CLI_ENTRY, 'login'], {
      cwd: root,
      env: { ...process.env, ...cliNatsEnv(config), ...cliEnv },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    login.stdin.end(`${demo}\n`);
    const code = await new Promise((resolve) => login.on('close', resolve));
    if (code !== 0) throw new StartError('Could not log the CLI in as demo (campaign login).');
    say('The CLI is logged in as demo (campaign whoami; campaign logout to forget it).');
  } else {
    say(`The CLI stays logged in as it was: ${own.stdout.split('\n')[0].replace(/\s+/g, ' ')}`);
  }
  say(`Users: admin (site admin) and demo; their tokens are in ${path.relative(root, file)}.`);
  say('To act as admin in a shell:');
  say(`  export CAMPAIGN_TOKEN=$(node -p "require('./${path.relative(root, file)}').admin")`);
  say("To sign in to the dashboard, paste the token this prints (demo's):");
  say(`  node -p "require('./${path.relative(root, file)}').demo"`);
}

/** The main job: apply hello-world (published) to the simulator and wait for its pull requests. */
async function applyHelloWorld(config) {
  if (config.ownConfig) return;
  const { readFile, writeFile } = await import('node:fs/promises');
  const example = await readFile(path.join(root, 'examples', 'hello-world.campaign.yaml'), 'utf8');
  // The example keeps its changesets local (`published: false`, as Sourcegraph's tutorial
  // does); against the simulator we publish them, so there are pull requests to look at.
  const published = example.replace(/^(\s*published:\s*)false\s*$/m, '$1true');
  const file = path.join(config.stateDir, 'hello-world.campaign.yaml');
  await writeFile(file, published);
  say(
    `Applying ${path.relative(root, file)} (examples/hello-world.campaign.yaml, published: true)...`,
  );
  await runCommand(
    process.execPath,
    [path.join(root, 'apps', 'cli', 'dist', 'main.js'), 'apply', '-f', file, '--wait'],
    'campaign apply did not reach the desired state',
    { ...cliNatsEnv(config), CAMPAIGN_TOKEN: config.demoToken },
  );
  say('');
  say(
    "The hello-world campaign is applied, in the demo user's namespace. Try, in another terminal:",
  );
  say('  npx campaign status hello-world -n demo');
  say('  npx campaign list -n demo');
  if (!config.ownNats) {
    say(
      'with NATS_URL (and, for a closed NATS, NATS_USER=cli and its NATS_PASSWORD) exported there.',
    );
  }
  say('Services keep running; press Ctrl-C to stop them.');
}

/** What `npm start` does, in order. Each step gets the configuration; later issues append steps. */
const steps = [
  { title: 'Checking Node.js', run: checkNodeVersion },
  { title: 'Installing dependencies', run: installDependencies },
  { title: 'Checking PostgreSQL', run: prepareDatabase },
  { title: 'Starting NATS', run: startNats, when: (config) => config.ownNats },
  { title: 'Checking Docker', run: checkDocker },
  { title: 'Building', run: build },
  // After the build: it reads NATS_PASSWORD(_FILE) with the services' own code.
  { title: 'Checking NATS JetStream', run: checkNats, when: (config) => !config.ownNats },
  { title: 'Preparing the step image', run: prepareStepImage },
  { title: 'Checking service ports', run: checkPortsAreFree },
  { title: 'Starting the code host', run: startSimulator },
  { title: 'Starting services', run: startServices },
  { title: 'Waiting until every service is ready', run: waitUntilReady },
  { title: 'Ready', run: printEndpoints },
  { title: 'Creating the demo users', run: createDemoUsers },
  { title: 'Running the hello-world campaign', run: applyHelloWorld },
];

async function main() {
  const config = readConfig(process.argv.slice(2));
  if (config.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  jsonOutput = config.json;
  process.on('SIGINT', () => void onSignal('SIGINT'));
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
  for (const step of steps) {
    if (state.stopping) return;
    if (step.when && !step.when(config)) continue;
    say(paint('1', `▸ ${step.title}`));
    await step.run(config);
  }
}

main().catch((error) => fail(error));
