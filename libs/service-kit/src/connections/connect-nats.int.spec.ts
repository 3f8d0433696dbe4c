import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';
import { capturedLogger } from '../test-support/captured-logs.js';
import { freePort } from '../test-support/free-port.js';
import { waitFor } from '../test-support/wait-for.js';
import { connectNats, watchNatsConnection } from './connect-nats.js';
import { DependencyUnavailableError } from './dependency-unavailable.error.js';

// A private nats-server, so the test can take NATS away without disturbing anyone else's.
async function startNatsServer(port: number): Promise<ChildProcess> {
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await waitFor('nats-server to accept connections', async () => {
    try {
      await (await connectNats(`nats://127.0.0.1:${port}`, 'probe')).close();
      return true;
    } catch {
      return false;
    }
  });
  return server;
}

async function stopNatsServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  server.kill('SIGKILL');
  await once(server, 'exit');
}

describe('NATS connection', () => {
  let server: ChildProcess | undefined;
  let nats: NatsConnection | undefined;

  afterEach(async () => {
    await nats?.close();
    if (server) await stopNatsServer(server);
  });

  it('refuses to start against an unreachable server, naming NATS and the URL without its token', async () => {
    const port = await freePort();
    const attempt = connectNats(`nats://s3cret-token@127.0.0.1:${port}`, 'kit-test');

    await expect(attempt).rejects.toThrow(DependencyUnavailableError);
    await expect(attempt).rejects.toThrow(
      `cannot connect to NATS at nats://***@127.0.0.1:${port} (set NATS_URL): `,
    );
  });

  it('reports not ready while NATS is away, ready again once it is back, and closed after close', async () => {
    const port = await freePort();
    server = await startNatsServer(port);
    const { logger, lines } = capturedLogger('kit-test');
    nats = await connectNats(`nats://127.0.0.1:${port}`, 'kit-test');
    const natsReady = watchNatsConnection(nats, logger);
    expect(natsReady()).toBe(true);

    await stopNatsServer(server);
    await waitFor('the outage to be logged', () =>
      lines.some((l) => l.msg === 'NATS connection lost; reconnecting'),
    );
    expect(natsReady).toThrow('reconnecting');

    server = await startNatsServer(port);
    await waitFor('the client to reconnect', () =>
      lines.some((l) => l.msg === 'NATS connection restored'),
    );
    expect(natsReady()).toBe(true);

    await nats.close();
    expect(natsReady).toThrow('connection closed');
  });
});
