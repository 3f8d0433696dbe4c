import { afterEach, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { PrivateNatsServer } from '@campaigns/events/testing';
import { capturedLogger } from '../test-support/captured-logs.js';
import { freePort } from '../test-support/free-port.js';
import { waitFor } from '../test-support/wait-for.js';
import { connectNats, watchNatsConnection } from './connect-nats.js';
import { DependencyUnavailableError } from './dependency-unavailable.error.js';

describe('NATS connection', () => {
  // A nats-server of the test's own, so it can take NATS away without disturbing anyone else's.
  let server: PrivateNatsServer | undefined;
  let nats: NatsConnection | undefined;

  afterEach(async () => {
    await nats?.close();
    await server?.destroy();
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
    server = await PrivateNatsServer.start();
    const { logger, lines } = capturedLogger('kit-test');
    nats = await connectNats(server.url, 'kit-test');
    const natsReady = watchNatsConnection(nats, logger);
    expect(natsReady()).toBe(true);

    await server.stop();
    await waitFor('the outage to be logged', () =>
      lines.some((l) => l.msg === 'NATS connection lost; reconnecting'),
    );
    expect(natsReady).toThrow('reconnecting');

    await server.restart();
    await waitFor('the client to reconnect', () =>
      lines.some((l) => l.msg === 'NATS connection restored'),
    );
    expect(natsReady()).toBe(true);

    await nats.close();
    expect(natsReady).toThrow('connection closed');
  });
});
