import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { ProjectionConsumer } from './projection-consumer.js';
import type { EventsLogger } from '../logger.js';
import type { EventsTopology } from '../nats/jetstream-topology.js';
import { EventRelay } from '../relay/event-relay.js';
import { PostgresEventStore } from '../store/event-store.js';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import { testCatalogue, testMetadata } from '../test-support/test-events.js';
import {
  connectTestNats,
  deleteStream,
  eventually,
  streamMessageCount,
  uniqueTopology,
} from '../test-support/test-nats.js';
import { counterProjection } from '../test-support/test-projection.js';
import { openProjectionDatabase } from '../test-support/test-projection-database.js';
import { startPrivateEventStore } from '../test-support/private-event-store.js';
import { PrivateNatsServer, type PrivatePostgres } from '../test-support/private-servers.js';

/** Log lines kept, so a test can wait for what the consumer said. */
function recordingLogger(): EventsLogger & { said(msg: string): boolean } {
  const lines: string[] = [];
  const keep = (_: object, msg?: string) => void lines.push(msg ?? '');
  return { info: keep, warn: keep, error: keep, said: (msg) => lines.includes(msg) };
}

// Faults of the broker itself, on a nats-server of this test's own: pausing the shared one would
// stall every other test running beside it.
describe('ProjectionConsumer when the NATS server stalls or restarts', () => {
  let server: PrivateNatsServer;
  let nats: NatsConnection;
  let db: TestDatabase;
  let store: PostgresEventStore;
  let topology: EventsTopology;
  let relay: EventRelay;
  let database: DataSource;
  let consumer: ProjectionConsumer | undefined;

  beforeEach(async () => {
    server = await PrivateNatsServer.start();
    nats = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    db = await createTestDatabase();
    store = new PostgresEventStore(db.pool, testCatalogue);
    await store.migrate();
    topology = uniqueTopology();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    await relay.start();
    database = await openProjectionDatabase(db.url, 'outage', [counterProjection()]);
  });
  afterEach(async () => {
    server.resume();
    await consumer?.stop();
    consumer = undefined;
    await relay.stop();
    await database.destroy();
    await nats.close();
    await server.destroy();
    await db.drop();
  });

  const effects = async () =>
    (
      await db.pool.query<{ stream_version: string }>(
        `SELECT stream_version FROM outage.effects WHERE stream_id = 'counter-x' ORDER BY seq`,
      )
    ).rows.map((r) => Number(r.stream_version));

  it('applies the messages it had received when the server stops answering mid-batch, long before the ack wait', async () => {
    const logger = recordingLogger();
    let holdFirstBatch: (() => void) | undefined;
    const firstBatchHeld = new Promise<void>((resolve) => (holdFirstBatch = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    consumer = new ProjectionConsumer({
      store,
      database,
      nats,
      topology,
      schema: 'outage',
      projection: counterProjection(),
      logger,
      batchSize: 5,
      concurrency: 1,
      // Anything stranded would come back only after two minutes.
      ackWaitMs: 120_000,
      afterCommit: async () => {
        if (holdFirstBatch) {
          holdFirstBatch();
          holdFirstBatch = undefined;
          await released;
        }
      },
    });
    await consumer.start();
    await store.append('counter-x', [{ type: 'CounterOpened', data: { label: 'x' } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    await store.append(
      'counter-x',
      Array.from({ length: 30 }, () => ({ type: 'CounterIncremented', data: { by: 1 } })),
      { expected: 'any', metadata: testMetadata() },
    );
    // The relay has published all 31 before the broker stalls.
    const jsm = await jetstreamManager(nats);
    expect(
      await eventually(
        async () => (await jsm.streams.info(topology.streamName)).state.messages === 31,
      ),
    ).toBe(true);

    // A batch is committed and waits to be acknowledged, more messages are in the consumer's
    // buffer, and the server freezes past the pull's heartbeat window (two missed heartbeats).
    await firstBatchHeld;
    server.pause();
    expect(await eventually(async () => logger.said('heartbeats missed; pulling again'))).toBe(
      true,
    );
    release();
    server.resume();

    // Everything is applied, each event once and in order, within seconds of the server's return.
    expect(await eventually(async () => (await effects()).length === 31, 30_000)).toBe(true);
    expect(await effects()).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(
      await eventually(
        async () =>
          (await jsm.consumers.info(topology.streamName, 'outage_counters')).num_ack_pending === 0,
      ),
    ).toBe(true);
  });

  it('goes on consuming after the server restarts, with nothing lost', async () => {
    consumer = new ProjectionConsumer({
      store,
      database,
      nats,
      topology,
      schema: 'outage',
      projection: counterProjection(),
      ackWaitMs: 120_000,
    });
    await consumer.start();
    await store.append('counter-x', [{ type: 'CounterOpened', data: { label: 'x' } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    expect(await eventually(async () => (await effects()).length === 1)).toBe(true);

    await server.stop();
    // Appended while the broker is away: the store keeps it, the relay publishes it later.
    await store.append(
      'counter-x',
      Array.from({ length: 10 }, () => ({ type: 'CounterIncremented', data: { by: 1 } })),
      { expected: 'any', metadata: testMetadata() },
    );
    await server.restart();

    expect(await eventually(async () => (await effects()).length === 11, 30_000)).toBe(true);
    expect(await effects()).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });
});

// The database of the consumer's own (a PostgreSQL of this test's own) goes away while messages
// are buffered: applying them fails at the very start of a transaction. The consumer must nak
// them and go on, not end (its run loop once died of this, and the service with it).
describe('ProjectionConsumer when PostgreSQL goes away mid-batch', () => {
  let postgres: PrivatePostgres;
  let destroy: () => Promise<void>;
  let nats: NatsConnection;
  let db: TestDatabase;
  let store: PostgresEventStore;
  let topology: EventsTopology;
  let relay: EventRelay;
  let database: DataSource;
  let consumer: ProjectionConsumer | undefined;

  beforeEach(async () => {
    ({ postgres, db, store, destroy } = await startPrivateEventStore('outage_pg'));
    nats = await connectTestNats();
    topology = uniqueTopology();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    await relay.start();
    database = await openProjectionDatabase(db.url, 'outage', [counterProjection()]);
  });
  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
    await relay.stop();
    await database.destroy();
    await deleteStream(nats, topology);
    await nats.close();
    await destroy();
  });

  const effects = async () =>
    (
      await db.pool.query<{ stream_version: string }>(
        `SELECT stream_version FROM outage.effects WHERE stream_id = 'counter-x' ORDER BY seq`,
      )
    ).rows.map((r) => Number(r.stream_version));

  it('naks what it cannot apply while the database is down and applies it all once it is back', async () => {
    const logger = recordingLogger();
    let holdFirstBatch: (() => void) | undefined;
    const firstBatchHeld = new Promise<void>((resolve) => (holdFirstBatch = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    consumer = new ProjectionConsumer({
      store,
      database,
      nats,
      topology,
      schema: 'outage',
      projection: counterProjection(),
      logger,
      batchSize: 5,
      concurrency: 1,
      ackWaitMs: 120_000,
      retryBackoffMs: { initial: 200, max: 1000 },
      afterCommit: async () => {
        if (holdFirstBatch) {
          holdFirstBatch();
          holdFirstBatch = undefined;
          await released;
        }
      },
    });
    await consumer.start();
    await store.append('counter-x', [{ type: 'CounterOpened', data: { label: 'x' } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
    await store.append(
      'counter-x',
      Array.from({ length: 30 }, () => ({ type: 'CounterIncremented', data: { by: 1 } })),
      { expected: 'any', metadata: testMetadata() },
    );
    expect(await eventually(async () => (await streamMessageCount(nats, topology)) === 31)).toBe(
      true,
    );

    // The first batch is committed; the next ones are buffered when the database goes away.
    await firstBatchHeld;
    postgres.stop();
    release();
    expect(await eventually(async () => logger.said('event failed; will retry'), 30_000)).toBe(
      true,
    );

    await postgres.restart();
    expect(await eventually(async () => (await effects()).length === 31, 60_000)).toBe(true);
    expect(await effects()).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  }, 120_000);
});
