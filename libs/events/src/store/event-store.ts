import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { EventCatalogue } from '../catalogue/event-catalogue.js';
import {
  ConcurrencyError,
  EventTooLargeError,
  EventValidationError,
  IdempotencyConflictError,
  SecretInEventError,
} from './errors.js';
import {
  newEventId,
  type EventMetadata,
  type GlobalCheckpoint,
  type NewEvent,
  type StoredEvent,
  START_OF_LOG,
} from './event.js';
import { SecretRedactor } from '../secrets/secret-policy.js';
import { eventStoreMigrations } from './event-store.schema.js';
import { runMigrations } from './migrations.js';

/** What the stream must look like for an append to go ahead. */
export type ExpectedVersion = bigint | number | 'no_stream' | 'stream_exists' | 'any';

export interface AppendOptions {
  expected: ExpectedVersion;
  metadata: EventMetadata;
}

export interface AppendResult {
  /** The stream's version after the append (or after the original append, for a retry). */
  nextExpectedVersion: bigint;
  /** False when every event was already stored by an earlier identical append. */
  written: boolean;
  events: { eventId: string; streamVersion: bigint; globalPosition: bigint }[];
}

/** One event for one stream, for `appendToStreams`. */
export interface StreamAppend {
  stream: string;
  event: NewEvent;
  expected: ExpectedVersion;
}

/** Events per statement of `appendToStreams`: large batches go in several round trips. */
const STREAMS_PER_STATEMENT = 500;

/** A content-addressed blob: events hold this reference instead of large payloads. */
export interface BlobRef {
  sha256: string;
  size: number;
}

export interface EventStoreOptions {
  /** Largest serialized payload accepted, in bytes (default 256 KiB). */
  maxPayloadBytes?: number;
  /**
   * Secret values (tokens, webhook secrets) that must never be stored; appends containing one are
   * refused. Values shorter than MIN_SECRET_LENGTH are ignored (their readers refuse them).
   */
  secrets?: readonly string[];
}

/** A pool or a client inside a transaction: anything that runs a query. */
export type Queryable = Pool | PoolClient;

const DEFAULT_MAX_PAYLOAD = 256 * 1024;
const MAX_METADATA_BYTES = 8 * 1024;
/** Every column of `eventstore.events`, in the order `rowToEvent` reads. */
export const EVENT_COLUMNS = `global_position, transaction_id, event_id, stream_id, stream_version, type, schema_version,
  data, metadata, recorded_at, hash`;

/**
 * Events after checkpoint ($1, $2) in global order, only from transactions older than every one
 * still running: a slow writer's events appear later, after everything read now, never skipped.
 */
const GAP_SAFE_AFTER = `(transaction_id, global_position) > ($1::xid8, $2::bigint)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY transaction_id, global_position`;

/** An event as its JSON envelope text (see `EventEnvelope`), with what routing needs. */
export interface SerializedEnvelope {
  eventId: string;
  streamId: string;
  type: string;
  json: string;
}

/** A row of `eventstore.events` as `pg` returns it. */
export interface EventRow extends QueryResultRow {
  global_position: string;
  transaction_id: string;
  event_id: string;
  stream_id: string;
  stream_version: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
  hash: string;
}

export function rowToEvent(r: EventRow): StoredEvent {
  return {
    global_position: BigInt(r.global_position),
    transaction_id: BigInt(r.transaction_id),
    event_id: r.event_id,
    stream_id: r.stream_id,
    stream_version: BigInt(r.stream_version),
    type: r.type,
    schema_version: r.schema_version,
    data: r.data,
    metadata: r.metadata,
    recorded_at: r.recorded_at,
    hash: r.hash,
  };
}

function expectedToText(expected: ExpectedVersion): string {
  if (typeof expected === 'string') return expected;
  if (expected < 0) throw new RangeError(`expected version must be >= 0, got ${expected}`);
  return expected.toString();
}

/** The append-only PostgreSQL event store (see DESIGN.md, "Event store"). */
export class PostgresEventStore {
  private readonly maxPayloadBytes: number;
  private readonly secrets: SecretRedactor;

  constructor(
    readonly pool: Pool,
    readonly catalogue: EventCatalogue,
    options: EventStoreOptions = {},
  ) {
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD;
    // The one secret policy: values shorter than MIN_SECRET_LENGTH are not looked for.
    this.secrets = new SecretRedactor(options.secrets ?? []);
  }

  /** Creates or upgrades the store's schema; safe when several instances start at once. */
  async migrate(): Promise<void> {
    await runMigrations(this.pool, 'eventstore', eventStoreMigrations);
  }

  /**
   * Appends events to one stream atomically, if the stream is at the expected version.
   * Validates every payload first: an invalid one stores nothing.
   */
  /**
   * A query on the caller's client, else on a pooled connection. Unlike `pool.query`, which
   * closes the connection of any failed query, a refusal raised by the store's own functions
   * (a concurrency or idempotency conflict: routine when writers race) keeps it: a new
   * connection is a forked backend warming its caches again.
   */
  async #query<R extends QueryResultRow>(
    client: PoolClient | undefined,
    sql: string,
    params: unknown[],
  ): Promise<{ rows: R[] }> {
    if (client !== undefined) return client.query<R>(sql, params);
    const pooled = await this.pool.connect();
    try {
      const result = await pooled.query<R>(sql, params);
      pooled.release();
      return result;
    } catch (err) {
      const code = (err as { code?: string }).code;
      pooled.release(code === 'CA001' || code === 'CA002' ? undefined : (err as Error));
      throw err;
    }
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions,
    client?: PoolClient,
  ): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const ids: string[] = [];
    const types: string[] = [];
    const versions: number[] = [];
    const data: string[] = [];
    const metadata: string[] = [];
    for (const e of events) {
      const prepared = this.prepare(e, options.metadata);
      ids.push(prepared.id);
      types.push(e.type);
      versions.push(prepared.schemaVersion);
      data.push(prepared.dataJson);
      metadata.push(prepared.metadataJson);
    }
    // Identical metadata is sent once; the database spreads it over every event.
    const sharedMetadata = metadata.every((m) => m === metadata[0]) ? [metadata[0]!] : metadata;
    const params = [
      stream,
      expectedToText(options.expected),
      ids,
      types,
      versions,
      data,
      sharedMetadata,
    ];
    const sql = `SELECT event_id, stream_version, global_position, written
                   FROM eventstore.append_events($1, $2, $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])`;
    try {
      const { rows } = await this.#query<{
        event_id: string;
        stream_version: string;
        global_position: string;
        written: boolean;
      }>(client, sql, params);
      return {
        nextExpectedVersion: BigInt(rows[rows.length - 1]!.stream_version),
        written: rows.some((r) => r.written),
        events: rows.map((r) => ({
          eventId: r.event_id,
          streamVersion: BigInt(r.stream_version),
          globalPosition: BigInt(r.global_position),
        })),
      };
    } catch (err) {
      const pgErr = err as { code?: string; detail?: string };
      if (pgErr.code === 'CA001')
        throw new ConcurrencyError(
          stream,
          expectedToText(options.expected),
          BigInt(pgErr.detail ?? '0') || null,
        );
      if (pgErr.code === 'CA002') throw new IdempotencyConflictError(pgErr.detail ?? ids[0]!);
      throw err;
    }
  }

  /**
   * Appends one event to each of many streams (e.g. one `ExecutionQueued` per workspace) in as
   * few round trips as possible, each with its own expected version. Inside a transaction the
   * whole batch commits or fails together; every payload is validated before anything is sent.
   * Results come in the order of `appends`.
   */
  async appendToStreams(
    appends: readonly StreamAppend[],
    metadata: EventMetadata,
    client?: PoolClient,
  ): Promise<(AppendResult['events'][number] & { stream: string; written: boolean })[]> {
    const prepared = appends.map((a) => ({ ...a, ...this.prepare(a.event, metadata) }));

    const results: (AppendResult['events'][number] & { stream: string; written: boolean })[] = [];
    for (let start = 0; start < prepared.length; start += STREAMS_PER_STATEMENT) {
      const chunk = prepared.slice(start, start + STREAMS_PER_STATEMENT);
      try {
        const { rows } = await this.#query<{
          event_id: string;
          stream_version: string;
          global_position: string;
          written: boolean;
        }>(
          client,
          `SELECT r.event_id, r.stream_version, r.global_position, r.written
             FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
                  WITH ORDINALITY AS x(stream_id, expected, id, type, schema_version, data, metadata, ord)
             CROSS JOIN LATERAL eventstore.append_events(x.stream_id, x.expected, ARRAY[x.id],
                  ARRAY[x.type], ARRAY[x.schema_version], ARRAY[x.data], ARRAY[x.metadata]) AS r
            ORDER BY x.ord`,
          [
            chunk.map((c) => c.stream),
            chunk.map((c) => expectedToText(c.expected)),
            chunk.map((c) => c.id),
            chunk.map((c) => c.event.type),
            chunk.map((c) => c.schemaVersion),
            chunk.map((c) => c.dataJson),
            chunk.map((c) => c.metadataJson),
          ],
        );
        rows.forEach((r, i) =>
          results.push({
            stream: chunk[i]!.stream,
            eventId: r.event_id,
            streamVersion: BigInt(r.stream_version),
            globalPosition: BigInt(r.global_position),
            written: r.written,
          }),
        );
      } catch (err) {
        const pgErr = err as { code?: string; detail?: string };
        if (pgErr.code === 'CA001')
          throw new ConcurrencyError(
            `one of ${chunk.length} streams (${chunk[0]!.stream}, …)`,
            'as expected per stream',
            BigInt(pgErr.detail ?? '0') || null,
          );
        if (pgErr.code === 'CA002')
          throw new IdempotencyConflictError(pgErr.detail ?? chunk[0]!.id);
        throw err;
      }
    }
    return results;
  }

  /** Validates one new event and serialises it; refuses oversized payloads and secrets. */
  private prepare(
    e: NewEvent,
    metadata: EventMetadata,
  ): { id: string; schemaVersion: number; dataJson: string; metadataJson: string } {
    const { data: parsed, schemaVersion } = this.catalogue.validate(e.type, e.data);
    const dataJson = JSON.stringify(parsed);
    const bytes = Buffer.byteLength(dataJson);
    if (bytes > this.maxPayloadBytes)
      throw new EventTooLargeError(e.type, bytes, this.maxPayloadBytes);
    const md = { ...metadata, ...e.metadata };
    this.checkMetadata(e.type, md);
    const metadataJson = JSON.stringify(md);
    if (this.secrets.occursInJson(dataJson) || this.secrets.occursInJson(metadataJson))
      throw new SecretInEventError(e.type);
    return { id: e.event_id ?? newEventId(), schemaVersion, dataJson, metadataJson };
  }

  private checkMetadata(type: string, md: Partial<EventMetadata>): void {
    for (const key of ['correlation_id', 'actor', 'source'] as const) {
      if (typeof md[key] !== 'string' || md[key].length === 0) {
        throw new EventValidationError(
          type,
          `metadata.${key}`,
          `${type}.metadata.${key}: required, a non-empty string`,
        );
      }
    }
    if (md.causation_id !== null && typeof md.causation_id !== 'string') {
      throw new EventValidationError(
        type,
        'metadata.causation_id',
        `${type}.metadata.causation_id: a string or null`,
      );
    }
    if (Buffer.byteLength(JSON.stringify(md)) > MAX_METADATA_BYTES) {
      throw new EventValidationError(
        type,
        'metadata',
        `${type}.metadata: over ${MAX_METADATA_BYTES} bytes`,
      );
    }
  }

  /** The stream's current version, or null if it has no events. */
  async streamVersion(stream: string): Promise<bigint | null> {
    const { rows } = await this.pool.query<{ version: string }>(
      'SELECT version FROM eventstore.streams WHERE stream_id = $1 AND version > 0',
      [stream],
    );
    return rows[0] ? BigInt(rows[0].version) : null;
  }

  /** Reads one stream in version order; payloads are upcast to the current schema versions. */
  async readStream(
    stream: string,
    options: { fromVersion?: bigint; toVersion?: bigint; maxCount?: number } = {},
    db: Queryable = this.pool,
  ): Promise<StoredEvent[]> {
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM eventstore.events
        WHERE stream_id = $1 AND stream_version BETWEEN $2 AND $3 ORDER BY stream_version LIMIT $4`,
      [
        stream,
        (options.fromVersion ?? 1n).toString(),
        (options.toVersion ?? 2n ** 62n).toString(),
        options.maxCount ?? 10_000,
      ],
    );
    return rows.map((r) => this.upcast(rowToEvent(r)));
  }

  /**
   * Reads committed events after `after` in the global order. Only transactions older than every
   * transaction still running are read, so a slow writer can never be skipped: its events appear
   * later, after everything read now. Payloads are returned as stored.
   */
  async readAll(
    options: { after?: GlobalCheckpoint; limit?: number } = {},
    db: Queryable = this.pool,
  ): Promise<{
    events: StoredEvent[];
    checkpoint: GlobalCheckpoint;
  }> {
    const after = options.after ?? START_OF_LOG;
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM eventstore.events WHERE ${GAP_SAFE_AFTER} LIMIT $3`,
      [after.transactionId.toString(), after.globalPosition.toString(), options.limit ?? 1000],
    );
    const events = rows.map(rowToEvent);
    const last = events[events.length - 1];
    return {
      events,
      checkpoint: last
        ? { transactionId: last.transaction_id, globalPosition: last.global_position }
        : after,
    };
  }

  /**
   * The same gap-safe page as `readAll`, each event already serialised as its JSON envelope by
   * PostgreSQL: the relay publishes these bytes as they are, with no parsing in between.
   */
  async readEnvelopes(
    options: { after: GlobalCheckpoint; limit: number },
    db: Queryable = this.pool,
  ): Promise<{ envelopes: SerializedEnvelope[]; checkpoint: GlobalCheckpoint }> {
    const { rows } = await db.query<{
      event_id: string;
      stream_id: string;
      type: string;
      transaction_id: string;
      global_position: string;
      json: string;
    }>(
      `SELECT event_id, stream_id, type, transaction_id, global_position,
              json_build_object(
                'global_position', global_position::text, 'transaction_id', transaction_id::text,
                'event_id', event_id, 'stream_id', stream_id, 'stream_version', stream_version::text,
                'type', type, 'schema_version', schema_version, 'data', data, 'metadata', metadata,
                'recorded_at', eventstore.canonical_time(recorded_at), 'hash', hash)::text AS json
         FROM eventstore.events WHERE ${GAP_SAFE_AFTER} LIMIT $3`,
      [
        options.after.transactionId.toString(),
        options.after.globalPosition.toString(),
        options.limit,
      ],
    );
    const last = rows[rows.length - 1];
    return {
      envelopes: rows.map((r) => ({
        eventId: r.event_id,
        streamId: r.stream_id,
        type: r.type,
        json: r.json,
      })),
      checkpoint: last
        ? {
            transactionId: BigInt(last.transaction_id),
            globalPosition: BigInt(last.global_position),
          }
        : options.after,
    };
  }

  /** Brings a stored event's payload to the current schema version of its type. */
  upcast(e: StoredEvent): StoredEvent {
    const d = this.catalogue.definition(e.type);
    return {
      ...e,
      data: this.catalogue.upcast(e.type, e.schema_version, e.data),
      schema_version: d.schemaVersion,
    };
  }

  /** Stores content once under its sha256; events keep the returned reference. */
  async putBlob(content: Buffer | string, db: Queryable = this.pool): Promise<BlobRef> {
    const buf = typeof content === 'string' ? Buffer.from(content) : content;
    if (this.secrets.occursIn(buf)) throw new SecretInEventError('blob');
    const sha256 = createHash('sha256').update(buf).digest('hex');
    await db.query(
      'INSERT INTO eventstore.blobs (sha256, size, content) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING',
      [sha256, buf.length, buf],
    );
    return { sha256, size: buf.length };
  }

  /** Several blobs in one round trip; absent ones are missing from the map. */
  async getBlobs(sha256s: readonly string[]): Promise<Map<string, Buffer>> {
    if (sha256s.length === 0) return new Map();
    const { rows } = await this.pool.query<{ sha256: string; content: Buffer }>(
      'SELECT sha256, content FROM eventstore.blobs WHERE sha256 = ANY ($1::text[])',
      [[...new Set(sha256s)]],
    );
    return new Map(rows.map((r) => [r.sha256, r.content]));
  }

  async getBlob(sha256: string): Promise<Buffer | null> {
    const { rows } = await this.pool.query<{ content: Buffer }>(
      'SELECT content FROM eventstore.blobs WHERE sha256 = $1',
      [sha256],
    );
    return rows[0]?.content ?? null;
  }
}
