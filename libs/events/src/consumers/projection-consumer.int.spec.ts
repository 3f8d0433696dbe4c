import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { ProjectionConsumer } from './projection-consumer.js';
import { defineEvent, EventCatalogue } from '../catalogue/event-catalogue.js';
import { ConsumerDeadLettered } from '../domain/events.js';
import { deadLetterStream } from '../domain/ids.js';
import type { EventsTopology } from '../nats/jetstream-topology.js';
import type { ProjectionDefinition } from '../projections/projection.js';
import { EventRelay } from '../relay/event-relay.js';
import type { StoredEvent } from '../store/event.js';
import { PostgresEventStore } from '../store/event-store.js';
import { startFixture, type FixtureProcess } from '../test-support/child-process.js';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import {
  CounterIncremented,
  CounterOpened,
  NoteAttached,
  testCatalogue,
  testMetadata,
} from '../test-support/test-events.js';
import {
  connectTestNats,
  deleteStream,
  eventually,
  TEST_NATS_URL,
  uniqueTopology,
} from '../test-support/test-nats.js';
import { counterProjection } from '../test-support/test-projection.js';
import { openProjectionDatabase } from '../test-support/test-projection-database.js';
import type { DataSource } from 'typeorm';

describe('ProjectionConsumer', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nats: NatsConnection;
  let topology: EventsTopology;
  let relay: EventRelay;
  const stoppables: { stop(): Promise<void> }[] = [];
  const databases: DataSource[] = [];
  const fixtures: FixtureProcess[] = [];

  beforeAll(async () => {
    nats = await connectTestNats();
  });
  afterAll(async () => {
    await nats.close();
  });
  beforeEach(async () => {
    db = await createTestDatabase();
    store = new PostgresEventStore(db.pool, testCatalogue);
    await store.migrate();
    topology = uniqueTopology();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    await relay.start();
  });
  afterEach(async () => {
    await Promise.all(fixtures.splice(0).map((f) => f.kill()));
    for (const s of stoppables.splice(0)) await s.stop();
    for (const d of databases.splice(0)) await d.destroy();
    await relay.stop();
    await deleteStream(nats, topology);
    await db.drop();
  });

  const consumer = async (
    schema: string,
    options: Partial<ConstructorParameters<typeof ProjectionConsumer>[0]> = {},
  ) => {
    const projection = options.projection ?? counterProjection();
    const database = await openProjectionDatabase(db.url, schema, [projection]);
    databases.push(database);
    const c = new ProjectionConsumer({
      store,
      database,
      nats,
      topology,
      schema,
      projection: counterProjection(),
      retryBackoffMs: { initial: 20, max: 200 },
      ...options,
    });
    stoppables.push(c);
    return c;
  };
  const open = (stream: string, label: string) =>
    store.append(stream, [{ type: 'CounterOpened', data: { label } }], {
      expected: 'no_stream',
      metadata: testMetadata(),
    });
  const increment = (stream: string, by: number) =>
    store.append(stream, [{ type: 'CounterIncremented', data: { by } }], {
      expected: 'any',
      metadata: testMetadata(),
    });
  const effects = async (schema: string) =>
    (
      await db.pool.query<{ event_id: string; stream_id: string; stream_version: string }>(
        `SELECT event_id, stream_id, stream_version FROM ${schema}.effects ORDER BY seq`,
      )
    ).rows;

  it("applies what it received even when a stalled event loop misses the server's heartbeats, without waiting for the ack wait", async () => {
    // A busy process (two cores shared by every service) stops its event loop now and then: a
    // fetch whose two heartbeats were missed used to throw away its messages until the ack wait.
    const c = await consumer('stalled', { ackWaitMs: 120_000 });
    await c.start();
    await open('counter-s', 's');
    expect(await eventually(async () => (await effects('stalled')).length === 1)).toBe(true);
    for (let i = 1; i <= 20; i++) await increment('counter-s', 1);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      // the event loop is blocked: nothing is read, no heartbeat is seen
    }
    expect(await eventually(async () => (await effects('stalled')).length === 21, 30_000)).toBe(
      true,
    );
  });

  it('acknowledges the event types a projection does not act on without a transaction, and fills gaps from the store', async () => {
    const c = await consumer('typed', {
      projection: { ...counterProjection(), types: ['CounterIncremented'] },
    });
    await c.start();
    // Stream b has only an event of another type; stream a's increment follows its opening.
    await open('counter-b', 'b');
    await open('counter-a', 'a');
    await increment('counter-a', 5);
    const checkpoint = async (stream: string) =>
      (
        await db.pool.query<{ v: string }>(
          `SELECT stream_version AS v FROM typed.projection_checkpoints WHERE stream_id = $1`,
          [stream],
        )
      ).rows[0]?.v;
    expect(await eventually(async () => (await checkpoint('counter-a')) === '2')).toBe(true);
    // The increment came with the opening before it, read from the store: the counter exists.
    expect(await effects('typed')).toMatchObject([
      { stream_id: 'counter-a', stream_version: '1' },
      { stream_id: 'counter-a', stream_version: '2' },
    ]);
    // b's event, delivered before a's, was acknowledged and never applied: no checkpoint row.
    expect(await checkpoint('counter-b')).toBeUndefined();
    const info = await (
      await jetstreamManager(nats)
    ).consumers.info(topology.streamName, 'typed_counters');
    expect(info.num_ack_pending).toBe(0);
  });

  it('crashes after commit and before ack; after redelivery the projection holds each event once', async () => {
    for (let s = 0; s < 3; s++) {
      await open(`counter-c${s}`, `c${s}`);
      for (let i = 1; i <= 4; i++) await increment(`counter-c${s}`, i);
    }
    const env = {
      DATABASE_URL: db.url,
      NATS_URL: TEST_NATS_URL,
      STREAM: topology.streamName,
      PREFIX: topology.subjectPrefix,
      ACK_WAIT_MS: '1000',
    };
    // 1. The consumer process commits its first batch and is killed before acknowledging it.
    const crashing = startFixture('consumer-process.ts', { ...env, PAUSE_AFTER_COMMIT: '1' });
    fixtures.push(crashing);
    await crashing.waitFor(/^committed \d+/);
    const committedBeforeCrash = (await effects('fixture')).length;
    expect(committedBeforeCrash).toBeGreaterThan(0);
    await crashing.kill('SIGKILL');

    // 2. A new process gets the unacknowledged messages again once their ack wait has passed.
    const restarted = startFixture('consumer-process.ts', env);
    fixtures.push(restarted);
    expect(await eventually(async () => (await effects('fixture')).length >= 15)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));

    const rows = await effects('fixture');
    expect(rows).toHaveLength(15);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(15);
    const jsm = await jetstreamManager(nats);
    const info = await jsm.consumers.info(topology.streamName, 'fixture_counters');
    // More deliveries than messages: the redelivery really happened and was recognised.
    expect(info.delivered.consumer_seq).toBeGreaterThan(15);
    const totals = await db.pool.query<{ total: string }>(
      `SELECT total FROM fixture.counters ORDER BY stream_id`,
    );
    expect(totals.rows.map((r) => Number(r.total))).toEqual([10, 10, 10]);
  });

  it('dead-letters a poison event after N deliveries and goes on with the events behind it', async () => {
    const poison = (e: StoredEvent) =>
      e.type === 'CounterIncremented' && (e.data as { by: number }).by === 13;
    const c = await consumer('poison', {
      projection: counterProjection({ fail: poison }),
      maxDeliveries: 3,
    });
    await c.start();
    await open('counter-p', 'p');
    await increment('counter-p', 1);
    const bad = await increment('counter-p', 13);
    await increment('counter-p', 2);
    await open('counter-q', 'q');
    await increment('counter-q', 5);

    expect(await eventually(async () => (await effects('poison')).length === 5)).toBe(true);
    const dead = await db.pool.query<{
      event_id: string;
      attempts: number;
      error: string;
      stream_version: string;
    }>(`SELECT event_id, attempts, error, stream_version FROM poison.dead_letters`);
    expect(dead.rows).toEqual([
      {
        event_id: bad.events[0]!.eventId,
        attempts: 3,
        stream_version: '3',
        error: expect.stringContaining('handler refused CounterIncremented counter-p@3'),
      },
    ]);
    const totals = await db.pool.query(
      `SELECT stream_id, total FROM poison.counters ORDER BY stream_id`,
    );
    expect(totals.rows).toEqual([
      { stream_id: 'counter-p', total: '3' },
      { stream_id: 'counter-q', total: '5' },
    ]);
    // This store's catalogue has no ConsumerDeadLettered: the row is the only record.
    expect(await store.streamVersion(deadLetterStream(c.name))).toBeNull();
  });

  it('dead-lettering an event also records ConsumerDeadLettered, in the same transaction as its row', async () => {
    const CampaignNoted = defineEvent('CampaignNoted', z.object({ campaign: z.string() }));
    const knowing = new PostgresEventStore(
      db.pool,
      new EventCatalogue([
        CounterOpened,
        CounterIncremented,
        NoteAttached,
        CampaignNoted,
        ConsumerDeadLettered,
      ]),
    );
    const c = await consumer('announced', {
      store: knowing,
      projection: counterProjection({ fail: (e) => e.type === 'CampaignNoted' }),
      maxDeliveries: 2,
    });
    await c.start();
    await open('counter-a', 'a');
    const bad = await knowing.append(
      'counter-a',
      [{ type: 'CampaignNoted', data: { campaign: 'hello-world' } }],
      { expected: 'any', metadata: testMetadata({ correlation_id: 'apply-7' }) },
    );
    await increment('counter-a', 2);

    expect(await eventually(async () => (await effects('announced')).length === 2)).toBe(true);
    const { rows } = await db.pool.query<{ error: string; failed_at: Date }>(
      `SELECT error, failed_at FROM announced.dead_letters`,
    );
    expect(rows).toHaveLength(1);
    const announced = await knowing.readStream(deadLetterStream(c.name));
    expect(announced.map((e) => e.type)).toEqual(['ConsumerDeadLettered']);
    expect(announced[0]!.data).toEqual({
      consumer: 'announced_counters',
      eventId: bad.events[0]!.eventId,
      eventType: 'CampaignNoted',
      streamId: 'counter-a',
      campaign: 'hello-world',
      error: rows[0]!.error,
      attempts: 2,
    });
    expect(announced[0]!.metadata).toEqual({
      correlation_id: 'apply-7',
      causation_id: bad.events[0]!.eventId,
      actor: 'alice',
      source: 'announced_counters',
    });
    // now() is the transaction's start: equal times mean the row and the event committed together.
    expect(announced[0]!.recorded_at).toEqual(rows[0]!.failed_at);
  });

  /**
   * The counter projection with a `prepare` that waits for `gate` (and fails while `failing`
   * says so); `handle` refuses any event that was not prepared, and records what it got.
   */
  function preparingProjection(o: {
    gate: Promise<void>;
    prepared: string[];
    failing?: () => boolean;
  }): ProjectionDefinition<Map<string, string>> {
    const base = counterProjection();
    return {
      ...base,
      async prepare(events) {
        o.prepared.push(...events.map((e) => e.event_id));
        await o.gate;
        if (o.failing?.()) throw new Error('prepare failed');
        return new Map(events.map((e) => [e.event_id, `${e.stream_id}@${e.stream_version}`]));
      },
      async handle(events, ctx) {
        for (const e of events)
          if (ctx.prepared?.get(e.event_id) !== `${e.stream_id}@${e.stream_version}`)
            throw new Error(`${e.event_id} was not prepared`);
        await base.handle(events, ctx);
      },
    };
  }

  it('prepares outside the transaction: while prepare waits, other writers are relayed to other consumers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const prepared: string[] = [];
    const slow = await consumer('slow', { projection: preparingProjection({ gate, prepared }) });
    const other = await consumer('other', { projection: counterProjection() });
    await Promise.all([slow.start(), other.start()]);

    // 1. The slow consumer takes counter-s and waits in prepare.
    const first = await open('counter-s', 's');
    expect(
      await eventually(async () => prepared.includes(first.events[0]!.eventId), 20_000, 10),
    ).toBe(true);
    // 2. Someone else appends meanwhile: the relay publishes it and the other consumer applies it.
    await open('counter-o', 'o');
    await increment('counter-o', 3);
    expect(
      await eventually(async () =>
        (await effects('other')).some(
          (r) => r.stream_id === 'counter-o' && r.stream_version === '2',
        ),
      ),
    ).toBe(true);
    expect(await effects('slow')).toEqual([]);

    // 3. Once prepare returns, handle gets its result for every event.
    release();
    expect(await eventually(async () => (await effects('slow')).length === 3)).toBe(true);
    expect((await db.pool.query(`SELECT 1 FROM slow.dead_letters`)).rows).toEqual([]);
  });

  it('prepares a failed batch again, event by event, before applying it', async () => {
    let failures = 1;
    const prepared: string[] = [];
    const c = await consumer('reprepared', {
      projection: preparingProjection({
        gate: Promise.resolve(),
        prepared,
        failing: () => failures-- > 0,
      }),
    });
    await c.start();
    const opened = await open('counter-r', 'r');

    expect(await eventually(async () => (await effects('reprepared')).length === 1)).toBe(true);
    expect(prepared.filter((id) => id === opened.events[0]!.eventId)).toHaveLength(2);
    expect((await db.pool.query(`SELECT 1 FROM reprepared.dead_letters`)).rows).toEqual([]);
  });

  it('retries a failing event with backoff, and keeps later events of its stream behind it', async () => {
    let failuresLeft = 2;
    const flaky = (e: StoredEvent) =>
      e.stream_id === 'counter-f' && e.stream_version === 2n && failuresLeft-- > 0;
    const c = await consumer('flaky', {
      projection: counterProjection({ fail: flaky }),
      maxDeliveries: 5,
    });
    await c.start();
    await open('counter-f', 'f');
    for (let i = 1; i <= 4; i++) await increment('counter-f', i);

    expect(await eventually(async () => (await effects('flaky')).length === 5)).toBe(true);
    const rows = await effects('flaky');
    expect(rows.map((r) => Number(r.stream_version))).toEqual([1, 2, 3, 4, 5]);
    expect(failuresLeft).toBeLessThan(0);
    expect((await db.pool.query(`SELECT 1 FROM flaky.dead_letters`)).rows).toHaveLength(0);
  });

  it('with several lanes and two instances, applies each stream in order and each event once', async () => {
    const a = await consumer('lanes', { concurrency: 4, batchSize: 16 });
    const b = await consumer('lanes', { concurrency: 3, batchSize: 9 });
    await Promise.all([a.start(), b.start()]);
    const streams = 12;
    for (let s = 0; s < streams; s++) await open(`counter-l${s}`, `l${s}`);
    await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        for (let i = 1; i <= 10; i++) await increment(`counter-l${s}`, 1);
      }),
    );
    const total = streams * 11;
    expect(await eventually(async () => (await effects('lanes')).length >= total)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    const rows = await effects('lanes');
    expect(rows).toHaveLength(total);
    const byStream = new Map<string, number[]>();
    for (const r of rows)
      byStream.set(r.stream_id, [...(byStream.get(r.stream_id) ?? []), Number(r.stream_version)]);
    for (const versions of byStream.values())
      expect(versions).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('stops after the batch in flight: nothing is left half-applied', async () => {
    const c = await consumer('graceful');
    await c.start();
    await open('counter-g', 'g');
    await increment('counter-g', 4);
    expect(await eventually(async () => (await effects('graceful')).length === 2)).toBe(true);
    await c.stop();
    expect(c.ready()).toBe(false);
    await increment('counter-g', 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await effects('graceful')).toHaveLength(2);
  });
});
