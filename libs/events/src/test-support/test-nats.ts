import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import type { EventsTopology } from '../nats/jetstream-topology.js';

export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A stream name and subject prefix no other test run uses. */
export function uniqueTopology(): EventsTopology {
  const id = randomBytes(4).toString('hex');
  return { streamName: `EVENTS_T${id}`, subjectPrefix: `evt${id}` };
}

export async function connectTestNats(): Promise<NatsConnection> {
  return connect({ servers: TEST_NATS_URL, name: 'campaigns-test' });
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
