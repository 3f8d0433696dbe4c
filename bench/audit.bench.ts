// npm run bench:audit — verifyEventLog over a synthetic log of 1,000,000 events in 10,000
// streams (real hashes, appended through append_events), against a baseline of reading the same
// events in the same order; then a full rebuild of a projection over the whole log; then the
// same for a log of 1,000,000 domain events and the services' own projections.
// Prints a table, then one JSON line with every figure. BENCH_SCALE=0.02 for a quick try.
import { cpus, loadavg, totalmem } from 'node:os';
import { verifyEventLog } from '../libs/events/src/audit/verify-event-log.js';
import { replayProjection } from '../libs/events/src/projections/replay.js';
import { checkout } from '../libs/events/src/store/checkout.js';
import {
  EVENT_COLUMNS,
  PostgresEventStore,
  rowToEvent,
  type EventRow,
} from '../libs/events/src/store/event-store.js';
import {
  createTestDatabase,
  openProjectionDatabase,
  testCatalogue,
  testMetadata,
} from '@campaigns/events/testing';
import type { PoolClient } from 'pg';
import type { ProjectionDefinition } from '../libs/events/src/projections/projection.js';
import { campaignsCatalogue } from '../libs/events/src/domain/events.js';
import { changesetId as changesetIdOf, changesetStream } from '../libs/events/src/domain/ids.js';
import { changesetProjection } from '../services/reconciler-service/src/projection/changeset-projection.js';
import { statusProjection } from '../services/spec-service/src/status/status-projection.js';
import { trackedPullRequestsProjection } from '../services/webhook-gateway/src/tracked-pull-requests.projection.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const STREAMS = Math.round(10_000 * SCALE);
const PER_STREAM = 100;
const APPENDS_PER_STREAM = 2;
const EVENTS = STREAMS * PER_STREAM;
const WRITERS = 4;
const BATCH = 10_000;
const ROUNDS = 2;

const db = await createTestDatabase('campaigns_bench_audit');
try {
  const store = new PostgresEventStore(db.pool, testCatalogue);
  await store.migrate();

  /**
   * One row per counter stream (label, total, event count, last version and time), maintained the
   * way a projection meant for volume is written: set-based, two statements per batch of events.
   */
  const projection: ProjectionDefinition = {
    name: 'counter_summaries',
    categories: ['counter'],
    migrations: (schema) => [
      {
        version: 1,
        name: 'counter summaries',
        sql: `CREATE TABLE ${schema}.counter_summaries (stream_id text PRIMARY KEY, label text NOT NULL,
              total bigint NOT NULL, events bigint NOT NULL, last_version bigint NOT NULL, last_at timestamptz NOT NULL)`,
      },
    ],
    tables: [{ name: 'counter_summaries', key: ['stream_id'] }],
    entities: [],
    // Set-based statements only: manager.query, as the services' projections do for batches.
    async handle(events, { manager: tx, schema }) {
      const opened = events.filter((e) => e.type === 'CounterOpened');
      if (opened.length > 0) {
        await tx.query(
          `INSERT INTO ${schema}.counter_summaries (stream_id, label, total, events, last_version, last_at)
         SELECT s, l, 0, 0, 0, a FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS x(s, l, a)`,
          [
            opened.map((e) => e.stream_id),
            opened.map((e) => (e.data as { label: string }).label),
            opened.map((e) => e.recorded_at),
          ],
        );
      }
      // Events arrive in stream order: the last of each stream in the batch sets version and time.
      await tx.query(
        `UPDATE ${schema}.counter_summaries c
          SET total = c.total + x.total, events = c.events + x.n, last_version = x.v, last_at = x.a
         FROM (SELECT s, sum(b) AS total, count(*) AS n, max(v) AS v, max(a) AS a
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[]) AS e(s, b, v, a)
                GROUP BY s) x
        WHERE c.stream_id = x.s`,
        [
          events.map((e) => e.stream_id),
          events.map((e) => (e.type === 'CounterIncremented' ? (e.data as { by: number }).by : 0)),
          events.map((e) => e.stream_version.toString()),
          events.map((e) => e.recorded_at),
        ],
      );
    },
  };
  const seconds = (ms: number) => (ms / 1000).toFixed(1);

  // 1. The log: every stream gets its events in APPENDS_PER_STREAM appends, streams interleaved,
  // 4 writers at once, through PostgresEventStore.append (validation, append_events, hash chain).
  const buildStarted = performance.now();
  const perAppend = PER_STREAM / APPENDS_PER_STREAM;
  for (let round = 0; round < APPENDS_PER_STREAM; round++) {
    let nextStream = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (;;) {
          const s = nextStream++;
          if (s >= STREAMS) return;
          const events = Array.from({ length: perAppend }, (_, i) =>
            round === 0 && i === 0
              ? { type: 'CounterOpened', data: { label: `counter ${s}` } }
              : { type: 'CounterIncremented', data: { by: ((s + i) % 9) + 1 } },
          );
          await store.append(`counter-${s}`, events, {
            expected: round === 0 ? 'no_stream' : round * perAppend,
            metadata: testMetadata({ correlation_id: `bench-${s}-${round}` }),
          });
        }
      }),
    );
  }
  const buildMs = performance.now() - buildStarted;
  // Hint bits and statistics settled once, so neither side of the comparison pays for them.
  await db.pool.query('VACUUM (ANALYZE) eventstore.events, eventstore.streams');

  // The live projection, built independently of the handler: plain SQL over the log.
  const database = await openProjectionDatabase(db.url, 'live', [projection]);
  await db.pool.query(`
  INSERT INTO live.counter_summaries (stream_id, label, total, events, last_version, last_at)
  SELECT stream_id, max(data->>'label') FILTER (WHERE type = 'CounterOpened'),
         coalesce(sum((data->>'by')::bigint) FILTER (WHERE type = 'CounterIncremented'), 0),
         count(*), max(stream_version),
         -- the handler sees recorded_at as a JavaScript Date: millisecond precision
         date_trunc('milliseconds', max(recorded_at))
    FROM eventstore.events WHERE stream_id LIKE 'counter-%' GROUP BY stream_id;
  INSERT INTO live.projection_checkpoints (projection, stream_id, stream_version)
  SELECT 'counter_summaries', stream_id, version FROM eventstore.streams WHERE stream_id LIKE 'counter-%';`);
  await db.pool.query('VACUUM (ANALYZE) live.counter_summaries, live.projection_checkpoints');

  /** Baseline: the same events, same order, same snapshot kind and page size, as the store reads them. */
  async function readAllEvents(): Promise<number> {
    const tx = await checkout(db.pool);
    let n = 0;
    try {
      await tx.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await tx.query(
        `DECLARE bench_log NO SCROLL CURSOR FOR SELECT ${EVENT_COLUMNS} FROM eventstore.events ORDER BY transaction_id, global_position`,
      );
      for (;;) {
        const { rows } = await tx.query(`FETCH FORWARD ${BATCH} FROM bench_log`);
        if (rows.length === 0) return n;
        n += rows.length;
      }
    } finally {
      await tx.query('ROLLBACK');
      tx.done();
    }
  }

  // 2. Chain verification vs reading, alternating rounds.
  let readMs = 0;
  let verifyMs = 0;
  let chainMs = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    const read = await readAllEvents();
    readMs += performance.now() - t;
    if (read !== EVENTS) throw new Error(`baseline read ${read} events, expected ${EVENTS}`);
    t = performance.now();
    const report = await verifyEventLog({
      pool: db.pool,
      catalogue: testCatalogue,
      batchSize: BATCH,
    });
    verifyMs += performance.now() - t;
    chainMs += (report.events * 1000) / report.chainEventsPerSecond;
    if (!report.ok || report.events !== EVENTS || report.streams !== STREAMS)
      throw new Error(`verification failed: ${JSON.stringify(report).slice(0, 2000)}`);
  }
  const readRate = (EVENTS * ROUNDS * 1000) / readMs;
  const verifyRate = (EVENTS * ROUNDS * 1000) / verifyMs;

  // 3. A full rebuild of the projection over the whole log, compared with the live one.
  const t = performance.now();
  const replay = await replayProjection({ store, database, projection, liveSchema: 'live' });
  await database.destroy();
  const replayMs = performance.now() - t;
  if (!replay.equal || replay.eventsReplayed !== EVENTS)
    throw new Error(`replay differs: ${JSON.stringify(replay).slice(0, 2000)}`);

  // 4. The services' own projections over a log of domain events: 10,000 changesets with a
  // desired state, a publication and 98 observations each (what a busy campaign's log is mostly
  // made of), appended like the log above; each projection is built live through its handler in
  // batches as a consumer would, then rebuilt by replayProjection and compared.
  const domain = await createTestDatabase('campaigns_bench_audit_domain');
  const domainResults: { name: string; ms: number; rows: number }[] = [];
  let domainVerifyRate = 0;
  try {
    const dstore = new PostgresEventStore(domain.pool, campaignsCatalogue());
    await dstore.migrate();
    const blob = await dstore.putBlob('diff --git a/README.md b/README.md\n');
    const files = { modified: ['README.md'], added: [], deleted: [], renamed: [] };
    let next = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (;;) {
          const s = next++;
          if (s >= STREAMS) return;
          const repository = `github.com/acme/repo-${s}`;
          const id = changesetIdOf('bench', repository, 'hello-world');
          const base = {
            changesetId: id,
            campaign: 'bench',
            repository,
            headBranch: 'hello-world',
          };
          const applyId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
          const specEventId = `0190a1b2-c3d4-7e5f-8a9b-${s.toString(16).padStart(12, '0')}`;
          const metadata = {
            correlation_id: applyId,
            causation_id: null,
            actor: 'bench',
            source: 'bench',
          };
          for (let round = 0; round < APPENDS_PER_STREAM; round++) {
            const events = Array.from({ length: perAppend }, (_, k) => {
              const i = round * perAppend + k;
              if (i === 0)
                return {
                  event_id: specEventId,
                  type: 'ChangesetSpecComputed',
                  data: {
                    ...base,
                    applyId,
                    executionId: 'e'.repeat(32),
                    spec: {
                      baseRef: 'main',
                      baseRevision: 'a'.repeat(40),
                      title: 'Hello World',
                      body: 'My first campaign!',
                      commit: {
                        message: 'Append Hello',
                        author: { name: 'Campaigns', email: 'c@example.com' },
                      },
                      published: true,
                      diff: blob,
                      files,
                    },
                  },
                };
              if (i === 1)
                return {
                  type: 'ChangesetPublished',
                  data: {
                    ...base,
                    specEventId,
                    number: 1,
                    url: `https://github.com/acme/repo-${s}/pull/1`,
                    nodeId: `PR_${s}`,
                    draft: false,
                    baseRef: 'main',
                    headRefOid: 'c'.repeat(40),
                    title: 'Hello World',
                    body: 'My first campaign!',
                  },
                };
              return {
                type: 'ChangesetObserved',
                data: {
                  ...base,
                  source: 'webhook',
                  deliveryId: `delivery-${s}-${i}`,
                  trigger: 'check_suite.completed',
                  number: 1,
                  state: 'open',
                  draft: false,
                  checks: i % 3 === 0 ? 'FAILURE' : 'SUCCESS',
                  reviewDecision: i % 5 === 0 ? 'APPROVED' : 'REVIEW_REQUIRED',
                },
              };
            });
            await dstore.append(changesetStream(id), events, {
              expected: round === 0 ? 'no_stream' : round * perAppend,
              metadata,
            });
          }
        }
      }),
    );
    await domain.pool.query('VACUUM (ANALYZE) eventstore.events, eventstore.streams');
    const dv = await verifyEventLog({
      pool: domain.pool,
      catalogue: campaignsCatalogue(),
      batchSize: BATCH,
    });
    if (!dv.ok || dv.events !== EVENTS)
      throw new Error(`domain log does not verify: ${JSON.stringify(dv).slice(0, 2000)}`);
    domainVerifyRate = (dv.events * 1000) / dv.durationMs;

    const projections: [string, ProjectionDefinition][] = [
      ['live_reconciler', changesetProjection()],
      ['live_spec', statusProjection()],
      ['live_gateway', trackedPullRequestsProjection],
    ];
    for (const [schema, p] of projections) {
      // The live copy, built by the handler in consumer-sized batches, with its checkpoints.
      const pdb = await openProjectionDatabase(domain.url, schema, [p]);
      const runner = pdb.createQueryRunner();
      const tx = (await runner.connect()) as PoolClient;
      try {
        await tx.query('BEGIN');
        await tx.query(
          `DECLARE live_log NO SCROLL CURSOR FOR SELECT ${EVENT_COLUMNS} FROM eventstore.events ORDER BY transaction_id, global_position`,
        );
        for (;;) {
          const { rows } = await tx.query<EventRow>(`FETCH FORWARD 1000 FROM live_log`);
          if (rows.length === 0) break;
          await p.handle(rows.map(rowToEvent), { tx, manager: runner.manager, schema });
        }
        await tx.query('CLOSE live_log');
        await tx.query(
          `INSERT INTO ${schema}.projection_checkpoints (projection, stream_id, stream_version)
           SELECT $1, stream_id, version FROM eventstore.streams`,
          [p.name],
        );
        await tx.query('COMMIT');
      } finally {
        await runner.release();
      }
      const started = performance.now();
      const r = await replayProjection({
        store: dstore,
        database: pdb,
        projection: p,
        liveSchema: schema,
      }).finally(() => pdb.destroy());
      const ms = performance.now() - started;
      if (!r.equal || r.eventsReplayed !== EVENTS)
        throw new Error(`${p.name} replay differs: ${JSON.stringify(r).slice(0, 2000)}`);
      domainResults.push({
        name: `${schema.replace('live_', '')}.${p.name}`,
        ms,
        rows: r.tables.reduce((n, x) => n + x.replayedRows, 0),
      });
    }
  } finally {
    await domain.drop();
  }

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
  console.log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`,
  );
  console.log(
    `log: ${EVENTS.toLocaleString('en-US')} events in ${STREAMS.toLocaleString('en-US')} streams, built in ${seconds(buildMs)} s (${fmt(
      (EVENTS * 1000) / buildMs,
    ).trim()} events/s through append, ${WRITERS} writers)`,
  );
  console.log('');
  console.log(
    `${'benchmark'.padEnd(38)} ${'events'.padStart(9)} ${'events/s'.padStart(10)} ${'baseline/s'.padStart(10)} ${'ratio'.padStart(6)} target`,
  );
  console.log(
    `${'verifyEventLog (chain, versions, '.padEnd(38)} ${String(EVENTS).padStart(9)} ${fmt(verifyRate)} ${fmt(readRate)} ${(verifyRate / readRate).toFixed(2).padStart(6)} ≥50,000/s ${verifyRate >= 50_000 ? 'ok' : 'BELOW'}`,
  );
  console.log(`${'  order, heads, payloads)'.padEnd(38)}`);
  console.log(
    `${'projection rebuild (1 row/stream)'.padEnd(38)} ${String(EVENTS).padStart(9)} ${fmt((EVENTS * 1000) / replayMs)} ${'—'.padStart(10)} ${'—'.padStart(6)} <120 s: ${seconds(replayMs)} s ${replayMs < 120_000 ? 'ok' : 'ABOVE'}`,
  );
  console.log(
    `${'domain log: verifyEventLog'.padEnd(38)} ${String(EVENTS).padStart(9)} ${fmt(domainVerifyRate)} ${'—'.padStart(10)} ${'—'.padStart(6)} ≥50,000/s ${domainVerifyRate >= 50_000 ? 'ok' : 'BELOW'}`,
  );
  for (const d of domainResults) {
    console.log(
      `${`rebuild ${d.name}`.padEnd(38)} ${String(EVENTS).padStart(9)} ${fmt((EVENTS * 1000) / d.ms)} ${'—'.padStart(10)} ${'—'.padStart(6)} <120 s: ${seconds(d.ms)} s ${d.ms < 120_000 ? 'ok' : 'ABOVE'}`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'audit',
      events: EVENTS,
      streams: STREAMS,
      build: {
        seconds: +(buildMs / 1000).toFixed(1),
        events_per_s: Math.round((EVENTS * 1000) / buildMs),
      },
      verify: {
        events_per_s: Math.round(verifyRate),
        chain_pass_events_per_s: Math.round((EVENTS * ROUNDS * 1000) / chainMs),
        read_baseline_per_s: Math.round(readRate),
        ratio: +(verifyRate / readRate).toFixed(3),
      },
      projection_rebuild: {
        seconds: +(replayMs / 1000).toFixed(1),
        events_per_s: Math.round((EVENTS * 1000) / replayMs),
        rows: replay.tables.reduce((n, x) => n + x.replayedRows, 0),
      },
      domain: {
        verify_events_per_s: Math.round(domainVerifyRate),
        rebuilds: domainResults.map((d) => ({
          projection: d.name,
          seconds: +(d.ms / 1000).toFixed(1),
          events_per_s: Math.round((EVENTS * 1000) / d.ms),
          rows: d.rows,
        })),
      },
    }),
  );
} finally {
  await db.drop();
}
