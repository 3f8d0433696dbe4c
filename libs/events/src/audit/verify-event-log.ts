import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { EventCatalogue } from '../catalogue/event-catalogue.js';
import type { ProjectionDefinition } from '../projections/projection.js';
import type { DataSource } from 'typeorm';
import { replayProjection, type RowDifference } from '../projections/replay.js';
import { checkout } from '../store/checkout.js';
import { PostgresEventStore } from '../store/event-store.js';

export type DiscrepancyKind =
  | 'hash-mismatch'
  | 'chain-broken'
  | 'version-gap'
  | 'version-duplicate'
  | 'version-order'
  | 'global-order'
  | 'stream-head-mismatch'
  | 'invalid-payload'
  | 'unknown-type'
  | 'invalid-metadata'
  | 'projection-row-differs'
  | 'projection-row-missing'
  | 'projection-row-extra';

/** One thing found wrong: which event (or projection row) and what is wrong with it. */
export interface Discrepancy {
  kind: DiscrepancyKind;
  message: string;
  streamId?: string;
  streamVersion?: string;
  eventId?: string;
  globalPosition?: string;
  projection?: string;
  table?: string;
  key?: Record<string, unknown>;
  live?: unknown;
  replayed?: unknown;
}

export interface VerifyReport {
  /** Events read from the log. */
  events: number;
  /** Streams seen in the log or in `eventstore.streams`. */
  streams: number;
  /** Each projection replayed: tables compared, rows in the live tables, equal to its replay. */
  projections: {
    name: string;
    liveSchema: string;
    tables: number;
    rows: number;
    equal: boolean;
  }[];
  /** The whole verification, projections included. */
  durationMs: number;
  /** Events checked per second by the log pass (chain, versions, order, payloads). */
  chainEventsPerSecond: number;
  /** The first `maxDiscrepancies` found, in the order found. */
  discrepancies: Discrepancy[];
  /**
   * Every discrepancy found, listed or not (row differences of a projection count as far as its
   * replay lists them: up to the room left under `maxDiscrepancies`, at least one).
   */
  discrepancyCount: number;
  ok: boolean;
}

export interface VerifyOptions {
  pool: pg.Pool;
  catalogue: EventCatalogue;
  /** Lists the projections' entities: `replayProjection` works on one of its connections. */
  database?: DataSource;
  /** Projections to rebuild with `replayProjection` and compare with their live schema. */
  projections?: readonly { liveSchema: string; projection: ProjectionDefinition }[];
  /** Events fetched per round trip (default 10,000). */
  batchSize?: number;
  /** Most discrepancies listed in the report (default 1,000); all are counted. */
  maxDiscrepancies?: number;
  onProgress?: (eventsChecked: number) => void;
}

/**
 * One row of the log pass, every column as PostgreSQL's text: position, transaction id, stream,
 * version, event id, type, schema version, stored hash, canonical text.
 */
type Row = [string, string, string, string, string, string, string, string, string];
const POS = 0,
  XID = 1,
  STREAM = 2,
  VERSION = 3,
  ID = 4,
  TYPE = 5,
  SCHEMA = 6,
  HASH = 7,
  CANON = 8;

// The canonical text is produced by the store's own function, exactly as `append_events` hashed it,
// so there is no second implementation of PostgreSQL's jsonb text output to drift from it.
const LOG_QUERY = `
  SELECT global_position, transaction_id, stream_id, stream_version, event_id, type, schema_version, hash,
         eventstore.event_canonical(stream_id, stream_version, event_id, type, schema_version,
                                    eventstore.canonical_time(recorded_at), data, metadata)
    FROM eventstore.events ORDER BY transaction_id, global_position`;

/** Every value as the text PostgreSQL sends: nothing is parsed that the checks do not need. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/** Out-of-order events held per stream before the missing version is declared gone. */
const MAX_PENDING = 1000;

interface StreamState {
  /** The version expected next. */
  next: number;
  /** Stored hash of the last accepted event (the link the next one must name); null before version 1. */
  prevHash: string | null;
  /** Stored hash of the event before that; undefined when unknown. */
  prevPrevHash: string | null | undefined;
  /** What the last event's hash should have been, when its stored hash did not match. */
  lastRecomputed: string | null;
  /** The last event's hash was verified against its predecessor's. */
  lastOk: boolean;
  /** The last event was out of order: the chain may run through the one before it. */
  prevOutOfOrder: boolean;
  /** The link of the next event cannot be checked (the event before it is missing). */
  linkUnknown: boolean;
  lastPos: string | null;
  lastId: string | null;
  /** Events that arrived ahead of a missing version, by version. */
  pending?: Map<number, Row>;
}

/** Compares two non-negative decimal integers given as text. */
function cmpDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha(prev: string | null | undefined, canonical: string): string {
  const h = createHash('sha256');
  if (prev) h.update(Buffer.from(prev, 'hex'));
  return h.update(canonical, 'utf8').digest('hex');
}

/** The canonical text of the same event as if it were recorded at version `v`, or null. */
function withVersion(r: Row, v: number): string | null {
  const head = `[${JSON.stringify(r[STREAM])}, ${r[VERSION]}, `;
  const canon = r[CANON];
  if (v < 1 || !canon.startsWith(head)) return null;
  return `[${JSON.stringify(r[STREAM])}, ${v}, ${canon.slice(head.length)}`;
}

/**
 * Verifies the whole event store without writing anything: every stream's hash chain and
 * version contiguity, the global order, the stream heads, every payload against its schema
 * version, and the given projections rebuilt from the log. Safe against production while
 * services run: the log is read in one REPEATABLE READ, READ ONLY snapshot; projection replays
 * use their own read-only snapshots and the session's temporary schema.
 */
export async function verifyEventLog(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const { pool, catalogue } = options;
  const batchSize = options.batchSize ?? 10_000;
  const maxDiscrepancies = options.maxDiscrepancies ?? 1000;
  const discrepancies: Discrepancy[] = [];
  let discrepancyCount = 0;
  const report = (d: Discrepancy) => {
    discrepancyCount++;
    if (discrepancies.length < maxDiscrepancies) discrepancies.push(d);
  };
  const at = (r: Row) => ({
    streamId: r[STREAM],
    streamVersion: r[VERSION],
    eventId: r[ID],
    globalPosition: r[POS],
  });
  const describe = (r: Row) =>
    `${r[STREAM]} version ${r[VERSION]} (event ${r[ID]}, global position ${r[POS]})`;

  const streams = new Map<string, StreamState>();
  let events = 0;
  let chainMs = 0;

  /** Checks the event's hash; returns what it should have been when its content changed. */
  function checkHash(s: StreamState, r: Row, v: number): string | null {
    // The event it was chained to is missing (reported as a gap): its link cannot be checked.
    if (s.linkUnknown) return null;
    const hash = r[HASH];
    const expected = sha(s.prevHash, r[CANON]);
    if (expected === hash) return null;
    // The chain may run through the event before an out-of-order one (already reported).
    if (s.prevOutOfOrder && s.prevPrevHash !== undefined && sha(s.prevPrevHash, r[CANON]) === hash)
      return null;
    const prev = `version ${v - 1}`;
    const down = withVersion(r, v - 1);
    const up = withVersion(r, v + 1);
    let kind: DiscrepancyKind = 'chain-broken';
    let message: string;
    let recomputed: string | null = null;
    if (s.lastRecomputed && sha(s.lastRecomputed, r[CANON]) === hash) {
      message = `chain broken: previous-hash link does not match ${prev}, whose stored hash was changed (this event's own content is intact)`;
    } else if (down && s.prevPrevHash !== undefined && sha(s.prevPrevHash, down) === hash) {
      message = `chain broken: previous-hash link does not match version ${v}: it was recorded as ${prev} right after the event now at version ${v - 2}, so the event now at ${prev} (${s.lastId}, global position ${s.lastPos}) was inserted afterwards (forged?)`;
    } else if (down && sha(s.prevHash, down) === hash) {
      message = `chain broken: previous-hash link does not match version ${v}: it was recorded as ${prev} (renumbered after an event was inserted earlier in the stream)`;
    } else if (up && sha(s.prevHash, up) === hash) {
      message = `chain broken: previous-hash link does not match version ${v}: it was recorded as version ${v + 1} (renumbered after an event was removed earlier in the stream)`;
    } else {
      kind = 'hash-mismatch';
      message =
        'hash mismatch: payload or metadata changed after it was recorded (the sha256 of its canonical form and the previous hash is not the stored hash)';
      recomputed = expected;
    }
    report({ kind, message: `${describe(r)}: ${message}`, ...at(r) });
    return recomputed;
  }

  /** Takes the event at the stream's expected version. */
  function accept(s: StreamState, r: Row, v: number): void {
    if (s.lastPos !== null && cmpDecimal(r[POS], s.lastPos) < 0) {
      // Out of order: its hash cannot be judged against its neighbours, except for one telling
      // case: it was chained as the previous version right after the one before that, so the
      // event now between them came later.
      const down = withVersion(r, v - 1);
      if (
        s.lastOk &&
        down &&
        s.prevPrevHash !== undefined &&
        sha(s.prevPrevHash, down) === r[HASH]
      ) {
        report({
          kind: 'chain-broken',
          message: `${describe(r)}: chain broken: previous-hash link does not match version ${v}: it was recorded as version ${v - 1} right after the event now at version ${v - 2}, so the event now at version ${v - 1} (${s.lastId}, global position ${s.lastPos}, stored after it) was inserted afterwards (forged?)`,
          ...at(r),
        });
      } else {
        report({
          kind: 'version-order',
          message: `${describe(r)}: lies before version ${v - 1} (event ${s.lastId}, global position ${s.lastPos}) in the global order: events reordered (swapped?)`,
          ...at(r),
        });
      }
      s.lastRecomputed = null;
      s.lastOk = false;
      s.prevPrevHash = s.linkUnknown ? undefined : s.prevHash;
      s.prevHash = r[HASH];
      s.prevOutOfOrder = true;
    } else {
      const before = discrepancyCount;
      s.lastRecomputed = checkHash(s, r, v);
      s.lastOk = discrepancyCount === before && !s.linkUnknown;
      s.prevPrevHash = s.linkUnknown ? undefined : s.prevHash;
      s.prevHash = r[HASH];
      s.prevOutOfOrder = false;
    }
    s.linkUnknown = false;
    s.lastPos = r[POS];
    s.lastId = r[ID];
    s.next = v + 1;
  }

  function drain(s: StreamState): void {
    while (s.pending && s.pending.size > 0) {
      const r = s.pending.get(s.next);
      if (!r) return;
      s.pending.delete(s.next);
      accept(s, r, s.next);
    }
  }

  /** Declares the versions before the lowest held-back one missing, and goes on from it. */
  function resolveGap(s: StreamState): void {
    const pending = s.pending!;
    const lowest = Math.min(...pending.keys());
    const r = pending.get(lowest)!;
    pending.delete(lowest);
    const missing =
      lowest - 1 === s.next ? `version ${s.next}` : `versions ${s.next}..${lowest - 1}`;
    report({
      kind: 'version-gap',
      message: `${r[STREAM]}: ${missing} missing (deleted?); the next stored is version ${lowest} (event ${r[ID]}, global position ${r[POS]})`,
      streamId: r[STREAM],
      streamVersion: String(s.next),
      eventId: r[ID],
      globalPosition: r[POS],
    });
    s.linkUnknown = true;
    accept(s, r, lowest);
    drain(s);
  }

  let lastXid = '';
  let lastPos = '';
  function check(r: Row): void {
    events++;
    if (r[XID] === lastXid && cmpDecimal(r[POS], lastPos) <= 0) {
      report({
        kind: 'global-order',
        message: `${describe(r)}: global position not increasing within transaction ${r[XID]} (follows ${lastPos})`,
        ...at(r),
      });
    }
    lastXid = r[XID];
    lastPos = r[POS];

    let s = streams.get(r[STREAM]);
    if (!s) {
      s = {
        next: 1,
        prevHash: null,
        prevPrevHash: undefined,
        lastRecomputed: null,
        lastOk: false,
        prevOutOfOrder: false,
        linkUnknown: false,
        lastPos: null,
        lastId: null,
      };
      streams.set(r[STREAM], s);
    }
    const v = Number(r[VERSION]);
    if (v === s.next) {
      accept(s, r, v);
      if (s.pending?.size) drain(s);
    } else if (v < s.next || s.pending?.has(v)) {
      report({
        kind: 'version-duplicate',
        message: `${describe(r)}: version ${v} is stored more than once`,
        ...at(r),
      });
    } else {
      (s.pending ??= new Map()).set(v, r);
      if (s.pending.size > MAX_PENDING) resolveGap(s);
    }

    checkContent(r);
  }

  function checkContent(r: Row): void {
    const type = r[TYPE];
    let parsed: unknown[];
    try {
      parsed = JSON.parse(r[CANON]) as unknown[];
    } catch (err) {
      report({
        kind: 'invalid-payload',
        message: `${describe(r)}: canonical form is not JSON: ${(err as Error).message}`,
        ...at(r),
      });
      return;
    }
    if (!catalogue.has(type)) {
      report({
        kind: 'unknown-type',
        message: `${describe(r)}: unknown event type ${type}`,
        ...at(r),
      });
    } else {
      try {
        catalogue.upcast(type, Number(r[SCHEMA]), parsed[6]);
      } catch (err) {
        report({
          kind: 'invalid-payload',
          message: `${describe(r)}: ${type} v${r[SCHEMA]} payload invalid: ${(err as Error).message}`,
          ...at(r),
        });
      }
    }
    const md = parsed[7] as Record<string, unknown> | null;
    const bad = ['correlation_id', 'actor', 'source'].filter(
      (k) => typeof md?.[k] !== 'string' || (md[k] as string).length === 0,
    );
    if (bad.length > 0 || typeof md !== 'object' || Array.isArray(md)) {
      report({
        kind: 'invalid-metadata',
        message: `${describe(r)}: metadata lacks ${bad.join(', ')} (each a non-empty string)`,
        ...at(r),
      });
    }
  }

  const tx = await checkout(pool);
  let streamCount = 0;
  try {
    await tx.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const chainStarted = performance.now();
    await tx.query(`DECLARE audit_log NO SCROLL CURSOR FOR ${LOG_QUERY}`);
    const fetch = () =>
      tx.query<Row>({
        text: `FETCH FORWARD ${batchSize} FROM audit_log`,
        rowMode: 'array',
        types: RAW_TEXT,
      });
    // Reads the next page while checking this one: PostgreSQL and Node work at the same time.
    let next = fetch();
    for (;;) {
      const { rows } = await next;
      if (rows.length === 0) break;
      next = fetch();
      for (const r of rows) check(r);
      options.onProgress?.(events);
    }
    await tx.query('CLOSE audit_log');
    for (const s of streams.values()) while (s.pending?.size) resolveGap(s);
    chainMs = performance.now() - chainStarted;

    // Positions are unique across transactions too (the primary key, unless it was dropped).
    const dupPositions = await tx.query<{ global_position: string; n: string }>(
      `SELECT global_position, count(*) AS n FROM eventstore.events
        GROUP BY global_position HAVING count(*) > 1 ORDER BY 1 LIMIT 100`,
    );
    for (const d of dupPositions.rows) {
      report({
        kind: 'global-order',
        message: `global position ${d.global_position} is held by ${d.n} events`,
        globalPosition: d.global_position,
      });
    }

    // The stream heads, from the same snapshot, agree with the last event of each stream.
    const heads = await tx.query<[string, string, string | null]>({
      text: 'SELECT stream_id, version, last_hash FROM eventstore.streams ORDER BY stream_id',
      rowMode: 'array',
      types: RAW_TEXT,
    });
    const seen = new Set<string>();
    for (const [streamId, version, lastHash] of heads.rows) {
      seen.add(streamId);
      const s = streams.get(streamId);
      const last = s ? s.next - 1 : 0;
      if (Number(version) !== last) {
        const gone =
          Number(version) > last
            ? ` (${Number(version) === last + 1 ? `version ${version}` : `versions ${last + 1}..${version}`} missing: deleted?)`
            : ' (events beyond the recorded head)';
        report({
          kind: 'stream-head-mismatch',
          message: `${streamId}: eventstore.streams is at version ${version}, the last stored event is version ${last}${gone}`,
          streamId,
          streamVersion: version,
          ...(s?.lastId ? { eventId: s.lastId, globalPosition: s.lastPos! } : {}),
        });
      } else if (s && lastHash !== s.prevHash) {
        report({
          kind: 'stream-head-mismatch',
          message: `${streamId}: eventstore.streams' last hash ${lastHash} is not the hash of version ${last} (${s.prevHash})`,
          streamId,
          streamVersion: version,
          eventId: s.lastId!,
          globalPosition: s.lastPos!,
        });
      }
    }
    for (const [streamId, s] of streams) {
      if (seen.has(streamId)) continue;
      report({
        kind: 'stream-head-mismatch',
        message: `${streamId}: has events up to version ${s.next - 1} but no eventstore.streams row`,
        streamId,
        streamVersion: String(s.next - 1),
      });
    }
    streamCount = new Set([...seen, ...streams.keys()]).size;
  } finally {
    await tx.query('ROLLBACK').catch(() => undefined);
    tx.done();
  }

  const projections: VerifyReport['projections'] = [];
  if (options.projections?.length) {
    const { database } = options;
    if (!database)
      throw new Error('verifying projections needs a DataSource listing their entities');
    const store = new PostgresEventStore(pool, catalogue);
    for (const { liveSchema, projection } of options.projections) {
      const replay = await replayProjection({
        store,
        database,
        projection,
        liveSchema,
        maxDifferences: Math.max(1, maxDiscrepancies - discrepancies.length),
      });
      projections.push({
        name: projection.name,
        liveSchema,
        tables: replay.tables.length,
        rows: replay.tables.reduce((n, t) => n + t.liveRows, 0),
        equal: replay.equal,
      });
      for (const d of replay.differences) report(rowDiscrepancy(projection.name, liveSchema, d));
    }
  }

  return {
    events,
    streams: streamCount,
    projections,
    durationMs: Math.round(performance.now() - started),
    chainEventsPerSecond: chainMs > 0 ? Math.round((events * 1000) / chainMs) : 0,
    discrepancies,
    discrepancyCount,
    ok: discrepancyCount === 0,
  };
}

function rowDiscrepancy(projection: string, liveSchema: string, d: RowDifference): Discrepancy {
  const where = `projection ${projection}, table ${liveSchema}.${d.table}, key ${JSON.stringify(d.key)}`;
  const base = { projection, table: d.table, key: d.key, live: d.live, replayed: d.replayed };
  if (d.live === null)
    return {
      kind: 'projection-row-missing',
      message: `${where}: row missing from the live projection (the replay has ${JSON.stringify(d.replayed)})`,
      ...base,
    };
  if (d.replayed === null)
    return {
      kind: 'projection-row-extra',
      message: `${where}: live row ${JSON.stringify(d.live)} that the replay does not produce`,
      ...base,
    };
  return {
    kind: 'projection-row-differs',
    message: `${where}: live ${JSON.stringify(d.live)} but replayed ${JSON.stringify(d.replayed)}`,
    ...base,
  };
}

/** A human summary: totals on the first lines, then every listed discrepancy on its own line. */
export function formatVerifyReport(report: VerifyReport): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `event log: ${n(report.events)} events in ${n(report.streams)} streams checked in ${(report.durationMs / 1000).toFixed(1)} s (${n(report.chainEventsPerSecond)} events/s)`,
  ];
  for (const p of report.projections) {
    lines.push(
      `projection ${p.name} (${p.liveSchema}): ${p.tables} tables, ${n(p.rows)} rows, ${p.equal ? 'equal to its replay' : 'DIFFERS from its replay'}`,
    );
  }
  if (report.projections.length === 0) lines.push('projections: none checked');
  lines.push(
    report.ok
      ? 'OK: no discrepancies'
      : `FAILED: ${n(report.discrepancyCount)} discrepancies${report.discrepancyCount > report.discrepancies.length ? ` (first ${n(report.discrepancies.length)} listed)` : ''}`,
  );
  for (const d of report.discrepancies) lines.push(`  [${d.kind}] ${d.message}`);
  return lines.join('\n');
}
