import { randomBytes } from 'node:crypto';

/** Who and what caused an event; every stored event carries it. */
export interface EventMetadata {
  /** Ties every event of one user action together (e.g. one `campaign apply`). */
  correlation_id: string;
  /** The event or request that directly caused this one; null for a user's own action. */
  causation_id: string | null;
  /** The person or service account on whose behalf the event was recorded. */
  actor: string;
  /** The service (or CLI) that recorded the event. */
  source: string;
}

/** An event to append; `event_id` makes retries idempotent, so callers that retry must set it. */
export interface NewEvent<T = unknown> {
  event_id?: string;
  type: string;
  data: T;
  /** Overrides the append call's metadata for this event (e.g. a different causation). */
  metadata?: Partial<EventMetadata>;
}

/** Position in the global order: `(transaction_id, global_position)`, compared in that order. */
export interface GlobalCheckpoint {
  transactionId: bigint;
  globalPosition: bigint;
}

export const START_OF_LOG: GlobalCheckpoint = Object.freeze({
  transactionId: 0n,
  globalPosition: 0n,
});

/** An event as the store holds it. */
export interface StoredEvent<T = unknown> {
  global_position: bigint;
  transaction_id: bigint;
  event_id: string;
  stream_id: string;
  stream_version: bigint;
  type: string;
  schema_version: number;
  data: T;
  metadata: EventMetadata;
  recorded_at: Date;
  hash: string;
}

/** Stream ids are `<category>-<id>`; the category names the NATS subject `ev.<category>.<type>`. */
export function categoryOf(stream: string): string {
  const dash = stream.indexOf('-');
  return dash > 0 ? stream.slice(0, dash) : stream;
}

/** A UUID version 7: time-ordered, so event ids index compactly. */
export function newEventId(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** JSON form of a stored event, as published to JetStream (bigints as strings). */
export interface EventEnvelope {
  global_position: string;
  transaction_id: string;
  event_id: string;
  stream_id: string;
  stream_version: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: string;
  hash: string;
}

export function toEnvelope(e: StoredEvent): EventEnvelope {
  return {
    global_position: e.global_position.toString(),
    transaction_id: e.transaction_id.toString(),
    event_id: e.event_id,
    stream_id: e.stream_id,
    stream_version: e.stream_version.toString(),
    type: e.type,
    schema_version: e.schema_version,
    data: e.data,
    metadata: e.metadata,
    recorded_at: e.recorded_at.toISOString(),
    hash: e.hash,
  };
}

export function fromEnvelope(e: EventEnvelope): StoredEvent {
  return {
    ...e,
    global_position: BigInt(e.global_position),
    transaction_id: BigInt(e.transaction_id),
    stream_version: BigInt(e.stream_version),
    recorded_at: new Date(e.recorded_at),
  };
}
