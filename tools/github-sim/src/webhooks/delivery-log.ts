// The record of every delivery attempt, as GitHub keeps it for "Recent Deliveries" and the
// `/hooks/{id}/deliveries` API, and its REST renderings.

/** One attempt to deliver one event to one hook. */
export interface DeliveryRecord {
  /** Unique per attempt (GitHub gives every attempt and redelivery its own id). */
  id: number;
  /** `X-GitHub-Delivery`: the same for retries, redeliveries and duplicates of one event. */
  guid: string;
  hookId: number;
  event: string;
  action: string | null;
  repositoryId: number | null;
  /** 1 for the first try; n for the (n-1)th automatic retry. */
  attempt: number;
  /** Sent by `redeliver` (GitHub's "Redeliver" button or API). */
  redelivery: boolean;
  /** Sent a second time by the duplicate-delivery fault. */
  duplicate: boolean;
  deliveredAt: string;
  durationMs: number;
  /** The receiver's HTTP status; null when there was no HTTP answer (timeout, refused, reset). */
  statusCode: number | null;
  /** GitHub's description of the outcome: "OK", "Invalid HTTP Response: 500", "timed out", … */
  status: string;
  /** Whether the receiver accepted it (a 2xx answer). */
  ok: boolean;
  url: string;
  request: { headers: Record<string, string>; payload: string };
  response: { headers: Record<string, string>; payload: string | null };
}

/** Which deliveries to list. */
export interface DeliveryFilter {
  hookId?: number;
  event?: string;
  action?: string;
  guid?: string;
}

/** A bounded, ordered log of delivery attempts; the oldest are dropped beyond `capacity`. */
export class DeliveryLog {
  private readonly records: DeliveryRecord[] = [];
  private readonly byId = new Map<number, DeliveryRecord>();

  constructor(private readonly capacity = 10_000) {}

  add(record: DeliveryRecord): void {
    this.records.push(record);
    this.byId.set(record.id, record);
    while (this.records.length > this.capacity) this.byId.delete(this.records.shift()!.id);
  }

  get(id: number): DeliveryRecord | undefined {
    return this.byId.get(id);
  }

  /** Matching deliveries, oldest first. */
  list(filter: DeliveryFilter = {}): DeliveryRecord[] {
    return this.records.filter(
      (r) =>
        (filter.hookId === undefined || r.hookId === filter.hookId) &&
        (filter.event === undefined || r.event === filter.event) &&
        (filter.action === undefined || r.action === filter.action) &&
        (filter.guid === undefined || r.guid === filter.guid),
    );
  }

  /** The latest attempt for a hook, if any. */
  latest(hookId: number): DeliveryRecord | undefined {
    for (let i = this.records.length - 1; i >= 0; i--) {
      if (this.records[i]!.hookId === hookId) return this.records[i];
    }
    return undefined;
  }
}

/** GitHub's `hook-delivery-item` (the list of a hook's deliveries). */
export function hookDeliveryItemJson(record: DeliveryRecord): Record<string, unknown> {
  return {
    id: record.id,
    guid: record.guid,
    delivered_at: record.deliveredAt,
    redelivery: record.redelivery,
    duration: record.durationMs / 1000,
    status: record.status,
    status_code: record.statusCode ?? 0,
    event: record.event,
    action: record.action,
    installation_id: null,
    repository_id: record.repositoryId,
    throttled_at: null,
  };
}

/** GitHub's `hook-delivery` (one delivery with its request and response). */
export function hookDeliveryJson(record: DeliveryRecord): Record<string, unknown> {
  const body = record.request.payload;
  const json = body.startsWith('payload=')
    ? (new URLSearchParams(body).get('payload') ?? '')
    : body;
  const payload: unknown = json === '' ? null : JSON.parse(json);
  return {
    ...hookDeliveryItemJson(record),
    url: record.url,
    request: { headers: record.request.headers, payload },
    response: { headers: record.response.headers, payload: record.response.payload },
  };
}

/** GitHub's `last_response` of a hook, from its latest delivery. */
export function lastResponseOf(record: DeliveryRecord | undefined): {
  code: number | null;
  status: string;
  message: string | null;
} {
  if (record === undefined) return { code: null, status: 'unused', message: null };
  return {
    code: record.statusCode,
    status: record.ok ? 'active' : 'misconfigured',
    message: record.status,
  };
}
