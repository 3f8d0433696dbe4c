// npm run bench:events — the event store, relay and consumer against raw baselines, same run,
// same database and broker. Prints a table, then one JSON line with every figure.
import { cpus, totalmem } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ProjectionConsumer } from '../libs/events/src/consumers/projection-consumer.js';
import { ensureEventsStream, subjectOf } from '../libs/events/src/nats/jetstream-topology.js';
import type { ProjectionDefinition } from '../libs/events/src/projections/projection.js';
import { EventRelay } from '../libs/events/src/relay/event-relay.js';
import { newEventId, toEnvelope } from '../libs/events/src/store/event.js';
import { PostgresEventStore } from '../libs/events/src/store/event-store.js';
import {
  openProjectionDatabase,
  createTestDatabase,
  testCatalogue,
  testMetadata,
  connectTestNats,
  deleteStream,
  uniqueTopology,
} from '@campaigns/events/testing';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const BATCHED_EVENTS = 40_000 * SCALE;
const BATCH = 100;
const WRITERS = 8;
const SINGLE_PER_WRITER = 1000 * SCALE;
const RELAY_EVENTS = 40_000 * SCALE;
const CONSUMER_EVENTS = 40_000 * SCALE;

const db = await createTestDatabase('campaigns_bench');
const store = new PostgresEventStore(db.pool, testCatalogue);
await store.migrate();
const metadata = JSON.stringify(testMetadata());
await db.pool.query(`
  CREATE TABLE raw_events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL, stream_version bigint NOT NULL,
    type text NOT NULL, schema_version integer NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(), hash text NOT NULL, UNIQUE (stream_id, stream_version));
  CREATE INDEX ON raw_events (transaction_id, global_position);`);

const rate = (n: number, ms: number) => (n * 1000) / ms;
async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
const payload = (i: number) => ({ by: (i % 9) + 1 });

async function rawInsert(stream: string, from: number, count: number) {
  const ids = Array.from({ length: count }, () => newEventId());
  await db.pool.query(
    `INSERT INTO raw_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, hash)
     SELECT id, $2, v, 'CounterIncremented', 2, d, $5::jsonb, 'x' FROM unnest($1::uuid[], $3::bigint[], $4::jsonb[]) AS t(id, v, d)`,
    [
      ids,
      stream,
      ids.map((_, i) => from + i),
      ids.map((_, i) => JSON.stringify(payload(i))),
      metadata,
    ],
  );
}

/** Runs baseline and subject in alternating rounds so drift (checkpoints, autovacuum) hits both alike. */
async function alternate(
  rounds: number,
  baseline: (round: number) => Promise<void>,
  subject: (round: number) => Promise<void>,
) {
  let baselineMs = 0;
  let subjectMs = 0;
  for (let r = 0; r < rounds; r++) {
    baselineMs += await timed(() => baseline(r));
    subjectMs += await timed(() => subject(r));
  }
  return { baselineMs, subjectMs };
}
const ROUNDS = 4;

// 1. Batched append vs raw batched INSERT.
const batchesPerRound = BATCHED_EVENTS / BATCH / ROUNDS;
const batched = await alternate(
  ROUNDS,
  async (r) => {
    for (let b = 0; b < batchesPerRound; b++) await rawInsert(`counter-raw${r}x${b}`, 1, BATCH);
  },
  async (r) => {
    for (let b = 0; b < batchesPerRound; b++) {
      await store.append(
        `counter-b${r}x${b}`,
        Array.from({ length: BATCH }, (_, i) => ({ type: 'CounterIncremented', data: payload(i) })),
        {
          expected: 'no_stream',
          metadata: testMetadata(),
        },
      );
    }
  },
);
const rawBatchedMs = batched.baselineMs;
const appendBatchedMs = batched.subjectMs;

// 2. Single-event appends, 8 concurrent writers, vs raw single-row INSERTs.
const perRound = SINGLE_PER_WRITER / ROUNDS;
const single = await alternate(
  ROUNDS,
  (r) =>
    Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 1; i <= perRound; i++) await rawInsert(`counter-rs${r}x${w}`, i, 1);
      }),
    ).then(() => undefined),
  (r) =>
    Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 1; i <= perRound; i++) {
          await store.append(
            `counter-s${r}x${w}`,
            [{ type: 'CounterIncremented', data: payload(i) }],
            {
              expected: i === 1 ? 'no_stream' : BigInt(i - 1),
              metadata: testMetadata(),
            },
          );
        }
      }),
    ).then(() => undefined),
);
const rawSingleMs = single.baselineMs;
const appendSingleMs = single.subjectMs;

// 3. Relay vs raw pipelined JetStream publish of the same messages.
const nats = await connectTestNats();
const jsm = await jetstreamManager(nats);
const js = jetstream(nats);
const relayDb = await createTestDatabase('campaigns_bench');
const relayStore = new PostgresEventStore(relayDb.pool, testCatalogue);
await relayStore.migrate();
for (let b = 0; b < RELAY_EVENTS / 1000; b++) {
  await relayStore.append(
    `counter-r${b}`,
    Array.from({ length: 1000 }, (_, i) => ({ type: 'CounterIncremented', data: payload(i) })),
    {
      expected: 'no_stream',
      metadata: testMetadata(),
    },
  );
}
const all = (await relayStore.readAll({ limit: RELAY_EVENTS })).events;
const rawTopology = uniqueTopology();
await ensureEventsStream(jsm, rawTopology);
// The baseline publishes ready-made messages: serialising them is not part of what it measures.
const messages = all.map((e) => ({
  subject: subjectOf(rawTopology, e.stream_id, e.type),
  body: JSON.stringify(toEnvelope(e)),
  id: e.event_id,
}));
const rawPublishMs = await timed(async () => {
  for (let i = 0; i < messages.length; i += 500) {
    await Promise.all(
      messages.slice(i, i + 500).map((m) => js.publish(m.subject, m.body, { msgID: m.id })),
    );
  }
});
const relayTopology = uniqueTopology();
let relayed = 0;
let relayDone!: () => void;
const relayFinished = new Promise<void>((r) => (relayDone = r));
const relay = new EventRelay({
  store: relayStore,
  nats,
  topology: relayTopology,
  async afterPublish(events) {
    relayed += events.length;
    if (relayed >= RELAY_EVENTS) relayDone();
  },
});
await ensureEventsStream(jsm, relayTopology);
const relayMs = await timed(async () => {
  await relay.start();
  await relayFinished;
});

// 4. Projection consumer throughput (the relay above has filled relayTopology's stream).
const sink: ProjectionDefinition = {
  name: 'sink',
  categories: ['counter'],
  migrations: (schema) => [
    {
      version: 1,
      name: 'sink',
      sql: `CREATE TABLE ${schema}.sink (event_id uuid PRIMARY KEY, stream_id text, stream_version bigint, total bigint)`,
    },
  ],
  tables: [{ name: 'sink', key: ['event_id'] }],
  entities: [],
  async handle(events, { manager, schema }) {
    await manager.query(
      `INSERT INTO ${schema}.sink SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[])`,
      [
        events.map((e) => e.event_id),
        events.map((e) => e.stream_id),
        events.map((e) => e.stream_version.toString()),
        events.map((e) => (e.data as { by: number }).by),
      ],
    );
  },
};
let consumed = 0;
let consumerDone!: () => void;
const consumerFinished = new Promise<void>((r) => (consumerDone = r));
const sinkDatabase = await openProjectionDatabase(relayDb.url, 'bench', [sink]);
const consumer = new ProjectionConsumer({
  store: relayStore,
  database: sinkDatabase,
  nats,
  projection: sink,
  schema: 'bench',
  topology: relayTopology,
  batchSize: 1000,
  concurrency: 2,
  async afterCommit(events) {
    consumed += events.length;
    if (consumed >= CONSUMER_EVENTS) consumerDone();
  },
});
const consumerMs = await timed(async () => {
  await consumer.start();
  await consumerFinished;
});
await consumer.stop();
await sinkDatabase.destroy();
await relay.stop();

const rows = [
  {
    name: 'append, batches of 100',
    events: BATCHED_EVENTS,
    rate: rate(BATCHED_EVENTS, appendBatchedMs),
    baseline: rate(BATCHED_EVENTS, rawBatchedMs),
    target: 0.5,
  },
  {
    name: 'append, 1 event, 8 writers',
    events: WRITERS * SINGLE_PER_WRITER,
    rate: rate(WRITERS * SINGLE_PER_WRITER, appendSingleMs),
    baseline: rate(WRITERS * SINGLE_PER_WRITER, rawSingleMs),
    target: 0.5,
  },
  {
    name: 'relay to JetStream',
    events: RELAY_EVENTS,
    rate: rate(RELAY_EVENTS, relayMs),
    baseline: rate(RELAY_EVENTS, rawPublishMs),
    target: 0.8,
  },
];
const consumerRate = rate(CONSUMER_EVENTS, consumerMs);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
);
console.log('');
console.log(
  `${'benchmark'.padEnd(30)} ${'events'.padStart(8)} ${'events/s'.padStart(10)} ${'baseline/s'.padStart(10)} ${'ratio'.padStart(6)} ${'target'.padStart(7)}`,
);
for (const r of rows) {
  const ratio = r.rate / r.baseline;
  console.log(
    `${r.name.padEnd(30)} ${String(r.events).padStart(8)} ${fmt(r.rate)} ${fmt(r.baseline)} ${ratio.toFixed(2).padStart(6)} ${`≥${r.target}`.padStart(7)} ${ratio >= r.target ? 'ok' : 'BELOW'}`,
  );
}
console.log(
  `${'projection consumer'.padEnd(30)} ${String(CONSUMER_EVENTS).padStart(8)} ${fmt(consumerRate)} ${'—'.padStart(10)} ${'—'.padStart(6)} ${'≥10000/s'.padStart(7)} ${consumerRate >= 10_000 ? 'ok' : 'BELOW'}`,
);
console.log(
  JSON.stringify({
    bench: 'events',
    append_batched: {
      events_per_s: Math.round(rows[0]!.rate),
      raw_per_s: Math.round(rows[0]!.baseline),
      ratio: +(rows[0]!.rate / rows[0]!.baseline).toFixed(3),
    },
    append_single_8_writers: {
      events_per_s: Math.round(rows[1]!.rate),
      raw_per_s: Math.round(rows[1]!.baseline),
      ratio: +(rows[1]!.rate / rows[1]!.baseline).toFixed(3),
    },
    relay: {
      events_per_s: Math.round(rows[2]!.rate),
      raw_publish_per_s: Math.round(rows[2]!.baseline),
      ratio: +(rows[2]!.rate / rows[2]!.baseline).toFixed(3),
    },
    consumer: { events_per_s: Math.round(consumerRate) },
  }),
);

await deleteStream(nats, rawTopology);
await deleteStream(nats, relayTopology);
await nats.close();
await relayDb.drop();
await db.drop();
