import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EventsTopology } from '../nats/jetstream-topology.js';
import type { PostgresEventStore } from '../store/event-store.js';
import { startPrivateEventStore } from '../test-support/private-event-store.js';
import type { PrivatePostgres } from '../test-support/private-servers.js';
import { testMetadata } from '../test-support/test-events.js';
import {
  connectTestNats,
  deleteStream,
  eventually,
  streamMessageCount,
  uniqueTopology,
} from '../test-support/test-nats.js';
import { EventRelay } from './event-relay.js';

// Every service runs a relay candidate and one of them leads: after PostgreSQL comes back, the
// standbys must answer ready too (the chaos run found every standby's /readyz at 503 for good).
describe('EventRelay when PostgreSQL goes away', () => {
  let postgres: PrivatePostgres;
  let nats: NatsConnection;
  let store: PostgresEventStore;
  let destroy: () => Promise<void>;
  let topology: EventsTopology;
  let relays: EventRelay[] = [];

  beforeEach(async () => {
    ({ postgres, store, destroy } = await startPrivateEventStore('relay_outage'));
    nats = await connectTestNats();
    topology = uniqueTopology();
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await deleteStream(nats, topology);
    await nats.close();
    await destroy();
  });

  it('has the leader and the standby ready again once the database is back, and publishes what follows', async () => {
    const candidate = () =>
      new EventRelay({ store, nats, topology, pollIntervalMs: 10, leaderRetryMs: 50 });
    relays = [candidate(), candidate()];
    await relays[0]!.start();
    expect(await eventually(async () => relays[0]!.isLeader)).toBe(true);
    await relays[1]!.start();
    await store.append('counter-x', [{ type: 'CounterOpened', data: { label: 'x' } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    expect(await eventually(async () => (await streamMessageCount(nats, topology)) === 1)).toBe(
      true,
    );
    expect(relays.map((r) => [r.isLeader, r.ready()])).toEqual([
      [true, true],
      [false, true],
    ]);

    postgres.stop();
    // Both fail rounds while it is away: neither is ready.
    expect(await eventually(async () => relays.every((r) => !r.ready()), 30_000)).toBe(true);

    await postgres.restart();
    expect(await eventually(async () => relays.every((r) => r.ready()), 30_000)).toBe(true);
    expect(relays.filter((r) => r.isLeader)).toHaveLength(1);
    await store.append('counter-x', [{ type: 'CounterIncremented', data: { by: 1 } }], {
      expected: 'any',
      metadata: testMetadata(),
    });
    expect(await eventually(async () => (await streamMessageCount(nats, topology)) === 2)).toBe(
      true,
    );
  }, 120_000);
});
