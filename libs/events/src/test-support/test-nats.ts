import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import { natsConnectTarget } from '../nats-connect-options.js';
import type { EventsTopology } from '../nats/jetstream-topology.js';

/**
 * The shared test broker as the services reach it. Jest's globalSetup (tools/jest-nats-setup.js)
 * starts a closed one (deploy/nats/nats.conf) and sets this to the `services` user's URL, its
 * password included: connect with natsConnectTarget (connectTestNats does), or hand it to a
 * service as NATS_URL.
 */
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * The same broker as the CLI reaches it: the `cli` user, whose account holds nothing but
 * spec-service's API. Run the CLI with this as NATS_URL, as a user would.
 */
export const TEST_NATS_CLI_URL = process.env.TEST_NATS_CLI_URL ?? TEST_NATS_URL;

/** A stream name and subject prefix no other test run uses. */
export function uniqueTopology(): EventsTopology {
  const id = randomBytes(4).toString('hex');
  return { streamName: `EVENTS_T${id}`, subjectPrefix: `evt${id}` };
}

/** A connection to `url` (the shared test broker as the services reach it, by default). */
export async function connectTestNats(url = TEST_NATS_URL): Promise<NatsConnection> {
  return connect({ ...natsConnectTarget(url), name: 'campaigns-test' });
}

export async function deleteStream(nc: NatsConnection, topology: EventsTopology): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(topology.streamName).catch(() => undefined);
}

export async function streamMessageCount(
  nc: NatsConnection,
  topology: EventsTopology,
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(topology.streamName)).state.messages;
}

/** Polls until `check` holds or the deadline passes; returns whether it held. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}
