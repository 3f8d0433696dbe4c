import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsConnectTarget } from '../nats-connect-options.js';
import { connectTestNats, TEST_NATS_CLI_URL, TEST_NATS_URL } from './test-nats.js';

// The suite runs on a closed broker (tools/jest-nats-setup.js starts one with
// deploy/nats/nats.conf), so every test that connects proves the services' and the CLI's users
// work as deployments configure them. A broker given as TEST_NATS_URL must be set up the same way.
describe('the shared test broker', () => {
  let services: NatsConnection;

  beforeAll(async () => {
    services = await connectTestNats();
  });

  afterAll(async () => {
    await services?.close();
  });

  it('serves JetStream to the services’ user, and refuses a connection without a user', async () => {
    const jsm = await jetstreamManager(services, { timeout: 5_000 });
    expect((await jsm.getAccountInfo()).limits).toBeDefined();

    const { servers } = natsConnectTarget(TEST_NATS_URL);
    const anonymous = await connect({ servers, timeout: 5_000, reconnect: false }).then(
      async (connection) => {
        await connection.close();
        return 'connected';
      },
      (error: Error) => error.message,
    );
    expect(anonymous).toMatch(/Authorization Violation/);
  });

  it('gives the CLI’s user another user, whose account has no JetStream', async () => {
    const services = natsConnectTarget(TEST_NATS_URL);
    const cliTarget = natsConnectTarget(TEST_NATS_CLI_URL);
    expect(cliTarget.servers).toEqual(services.servers);
    expect(cliTarget.user).toBe('cli');
    expect(services.user).toBe('services');

    const cli = await connect({ ...cliTarget, timeout: 5_000, reconnect: false });
    try {
      await expect(jetstreamManager(cli, { timeout: 5_000 })).rejects.toThrow(
        /Permissions Violation/,
      );
    } finally {
      await cli.close();
    }
  });
});
