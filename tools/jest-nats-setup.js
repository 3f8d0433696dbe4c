// Jest's globalSetup: one closed NATS for the whole run, configured as deployments are
// (deploy/nats/nats.conf: the services' account, and the CLI's account that reaches only the API).
// It listens on a free loopback port, keeps JetStream in a temporary directory and gets random
// passwords, and the workers (started after this) find it in their environment:
//
//   TEST_NATS_URL      nats://services:PASSWORD@127.0.0.1:PORT — what the services and tests use
//   TEST_NATS_CLI_URL  nats://cli:PASSWORD@127.0.0.1:PORT      — what the CLI uses, as a user would
//
// natsConnectTarget (libs/events) turns the user and password in those URLs into nats.js's own.
// With TEST_NATS_URL set already, that broker is used as given (and TEST_NATS_CLI_URL, else the
// same URL, for the CLI); nothing is started. jest-nats-teardown.js stops the server.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNatsServer } from '../scripts/nats-server-binary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NATS_CONF = path.join(root, 'deploy', 'nats', 'nats.conf');
const START_TIMEOUT_MS = 20_000;

/** Shared with jest-nats-teardown.js (Jest runs both in its own process). */
export const BROKER_KEY = Symbol.for('campaigns.testBroker');

export default async function startTestBroker() {
  if (process.env.TEST_NATS_URL?.trim()) {
    process.env.TEST_NATS_CLI_URL ||= process.env.TEST_NATS_URL;
    return;
  }
  const binary = natsServerBinary();
  const dir = mkdtempSync(path.join(tmpdir(), 'campaigns-test-nats-'));
  const passwords = { services: secret(), cli: secret() };
  let broker;
  try {
    // A port chosen free can be taken before nats-server binds it: then try another.
    for (let attempt = 1; broker === undefined; attempt++) {
      try {
        broker = await startBroker(binary, dir, passwords, await freePort());
      } catch (error) {
        if (attempt >= 3 || !error.portTaken) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  globalThis[BROKER_KEY] = broker;
  // Never left behind, whichever way Jest ends.
  process.on('exit', () => broker.child.kill('SIGKILL'));
  const url = (user) => `nats://${user}:${passwords[user]}@127.0.0.1:${broker.port}`;
  process.env.TEST_NATS_URL = url('services');
  process.env.TEST_NATS_CLI_URL = url('cli');
}

/** The nats-server binary, or an error saying how to get one (or to use a broker of yours). */
function natsServerBinary() {
  const found = findNatsServer();
  if (found !== undefined) return found;
  throw new Error(
    'The tests run their own closed NATS, and need nats-server: install it (Debian: apt-get install nats-server; ' +
      'or a release from https://github.com/nats-io/nats-server/releases), or set TEST_NATS_URL to a broker of yours.',
  );
}

/** 32 URL-safe characters: goes into a URL unescaped, and is long enough for every secret policy. */
function secret() {
  return randomBytes(24).toString('base64url');
}

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

async function startBroker(binary, dir, passwords, port) {
  const log = path.join(dir, `nats-server-${port}.log`);
  const child = spawn(
    binary,
    ['-c', NATS_CONF, '-a', '127.0.0.1', '-p', String(port), '-sd', dir, '-l', log],
    {
      // The passwords reach nats-server through its environment only, as nats.conf reads them.
      env: {
        ...process.env,
        CAMPAIGNS_NATS_SERVICES_PASSWORD: passwords.services,
        CAMPAIGNS_NATS_CLI_PASSWORD: passwords.cli,
      },
      stdio: 'ignore',
    },
  );
  let exit;
  child.on('exit', (code, signal) => (exit = signal ? `signal ${signal}` : `code ${code}`));
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => true),
    once(child, 'error').then(([error]) => error),
  ]);
  if (spawned !== true) throw new Error(`could not run ${binary}: ${spawned.message}`);

  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no answer yet';
  for (;;) {
    if (exit !== undefined) {
      const output = readLog(log);
      const error = new Error(
        `the test NATS (nats-server -c deploy/nats/nats.conf -p ${port}) exited with ${exit}:\n${output}`,
      );
      error.portTaken = /address already in use/i.test(output);
      throw error;
    }
    try {
      const nc = await connect({
        servers: `nats://127.0.0.1:${port}`,
        user: 'services',
        pass: passwords.services,
        timeout: 1_000,
        reconnect: false,
      });
      try {
        // The services need JetStream: a broker without it would fail every test instead.
        await jetstreamManager(nc, { timeout: 5_000 });
      } finally {
        await nc.close();
      }
      return { child, port, dir };
    } catch (error) {
      last = error.message;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `the test NATS on port ${port} did not accept the services' user with JetStream within ${START_TIMEOUT_MS / 1000} s (${last}):\n${readLog(log)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readLog(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(nats-server wrote no log)';
  }
}
