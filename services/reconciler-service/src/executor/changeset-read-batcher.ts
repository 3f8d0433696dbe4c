import type { ChangesetObservation, ChangesetRef, CodeHost } from '@campaigns/codehost';

export interface ChangesetReadBatcherOptions {
  /** Reads per query at most (GitHub's GraphQL takes 100 pull requests per query). */
  maxBatch?: number;
  /** How long the first read of a batch waits for others to join it. */
  maxWaitMs?: number;
  /**
   * How many reads could still join (e.g. rounds that may read but have not yet): when none,
   * the batches go at once instead of waiting out `maxWaitMs`.
   */
  readsToCome?: () => number;
}

interface PendingRead {
  ref: ChangesetRef;
  resolve(observation: ChangesetObservation | undefined): void;
  reject(error: unknown): void;
}

interface Batch {
  reads: PendingRead[];
  timer: NodeJS.Timeout;
}

/**
 * Gathers the reads of many reconcile rounds into one `loadChangesets` per code host: a batch
 * goes when it holds `maxBatch` reads, when no other read can still join (see
 * `readsToCome`), or when its first read has waited `maxWaitMs` (default 100 and 200 ms).
 */
export class ChangesetReadBatcher {
  private readonly maxBatch: number;
  private readonly maxWaitMs: number;
  private readonly batches = new Map<CodeHost, Batch>();
  private readonly readsToCome: () => number;

  constructor(options: ChangesetReadBatcherOptions = {}) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 100);
    this.maxWaitMs = Math.max(0, options.maxWaitMs ?? 200);
    this.readsToCome = options.readsToCome ?? (() => Number.POSITIVE_INFINITY);
  }

  /** Sends the batches when no read can join them any more (call when a would-be reader did not). */
  settle(): void {
    if (this.readsToCome() <= 0) for (const host of [...this.batches.keys()]) this.send(host);
  }

  /** The pull request as the host shows it now; undefined when the host does not know it. */
  load(host: CodeHost, ref: ChangesetRef): Promise<ChangesetObservation | undefined> {
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(host);
      if (batch === undefined) {
        batch = { reads: [], timer: setTimeout(() => this.send(host), this.maxWaitMs) };
        this.batches.set(host, batch);
      }
      batch.reads.push({ ref, resolve, reject });
      if (batch.reads.length >= this.maxBatch) this.send(host);
      else this.settle();
    });
  }

  private send(host: CodeHost): void {
    const batch = this.batches.get(host);
    if (batch === undefined) return;
    this.batches.delete(host);
    clearTimeout(batch.timer);
    const key = (ref: ChangesetRef) => `${ref.repo}#${ref.number}`;
    const refs = [...new Map(batch.reads.map((r) => [key(r.ref), r.ref])).values()];
    host.loadChangesets(refs).then(
      (observations) => {
        const byKey = new Map(observations.map((o) => [key(o), o]));
        for (const read of batch.reads) read.resolve(byKey.get(key(read.ref)));
      },
      (error: unknown) => {
        for (const read of batch.reads) read.reject(error);
      },
    );
  }
}
