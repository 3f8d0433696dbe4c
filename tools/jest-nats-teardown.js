// Jest's globalTeardown: stops the NATS jest-nats-setup.js started (none when TEST_NATS_URL was
// given) and removes its JetStream directory.
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { BROKER_KEY } from './jest-nats-setup.js';

const STOP_TIMEOUT_MS = 10_000;

export default async function stopTestBroker() {
  const broker = globalThis[BROKER_KEY];
  if (broker === undefined) return;
  globalThis[BROKER_KEY] = undefined;
  const { child, dir } = broker;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
}
