import type { StoredEvent } from '../store/event.js';

/**
 * Releases events in each stream's version order when they arrive in global order. Global order
 * is (transaction_id, global_position), and a transaction that took its id before it appended
 * (e.g. a consumer's transaction that wrote its own tables first) can hold a later version of a
 * stream under a smaller id than the version before it. Projections are applied per stream in
 * version order — the consumer fills such gaps from the store — so replays must do the same:
 * an event ahead of its stream waits until the versions before it have been released.
 */
export class StreamOrder<E extends Pick<StoredEvent, 'stream_id' | 'stream_version'>> {
  readonly #next = new Map<string, bigint>();
  readonly #held = new Map<string, Map<bigint, E>>();

  /** The events of `batch` (and held ones) that are now next in their streams, in order. */
  push(batch: readonly E[]): E[] {
    const out: E[] = [];
    for (const e of batch) {
      const next = this.#next.get(e.stream_id) ?? 1n;
      if (e.stream_version < next) continue; // already released: a duplicate
      if (e.stream_version > next) {
        let held = this.#held.get(e.stream_id);
        if (held === undefined) this.#held.set(e.stream_id, (held = new Map()));
        held.set(e.stream_version, e);
        continue;
      }
      out.push(e);
      let version = next + 1n;
      const held = this.#held.get(e.stream_id);
      while (held?.has(version)) {
        out.push(held.get(version)!);
        held.delete(version);
        version++;
      }
      if (held?.size === 0) this.#held.delete(e.stream_id);
      this.#next.set(e.stream_id, version);
    }
    return out;
  }

  /** Events still waiting for an earlier version of their stream (a gap in the log). */
  get held(): number {
    let n = 0;
    for (const h of this.#held.values()) n += h.size;
    return n;
  }
}
