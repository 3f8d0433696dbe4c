// Fault injection, reproducible from a seed: every decision is drawn from a named pseudo-random
// stream, so the same seed and the same sequence of requests give the same faults. Separate
// streams (API, git, webhooks) keep one kind of traffic from shifting another's faults.

/** A latency distribution in milliseconds. */
export type Latency =
  | { kind: 'none' }
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'normal'; meanMs: number; stddevMs: number }
  | { kind: 'exponential'; meanMs: number };

export interface WebhookFaults {
  /** Extra delay before each delivery attempt. */
  latency: Latency;
  /** Share of deliveries that fail as if the receiver were unreachable (0..1). */
  failureRate: number;
  /** Share of deliveries sent twice (0..1). */
  duplicateRate: number;
  /** Share of deliveries held back and sent after the next one (0..1). */
  reorderRate: number;
}

export interface FaultConfig {
  /** Seed of every stream; changing it restarts the streams. */
  seed: number;
  /** Share of API requests answered with a 5xx (0..1). */
  errorRate: number;
  /** The 5xx statuses to choose from. */
  errorStatuses: number[];
  /** Share of API requests whose connection is reset without an answer (0..1). */
  resetRate: number;
  /** Delay before each API request is handled. */
  latency: Latency;
  /** Regular expressions over the path; faults apply only to matching requests (default: the REST and GraphQL APIs). */
  paths: string[];
  /** Apply faults to git smart HTTP too. */
  includeGit: boolean;
  webhooks: WebhookFaults;
  /**
   * How long a new fork stays out of sight (404 to REST, GraphQL and git) after its creation was
   * answered 202: GitHub makes forks in the background.
   */
  forkDelayMs: number;
}

export const NO_FAULTS: FaultConfig = {
  seed: 1,
  errorRate: 0,
  errorStatuses: [500, 502, 503],
  resetRate: 0,
  latency: { kind: 'none' },
  paths: ['^/api/'],
  includeGit: false,
  webhooks: { latency: { kind: 'none' }, failureRate: 0, duplicateRate: 0, reorderRate: 0 },
  forkDelayMs: 0,
};

/** What to do to one request. */
export interface FaultDecision {
  latencyMs: number;
  errorStatus: number | null;
  reset: boolean;
}

/** mulberry32: small, fast, good enough for reproducible test faults. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

export class Faults {
  private config: FaultConfig = structuredClone(NO_FAULTS);
  private pathPatterns: RegExp[] = [];
  private readonly streams = new Map<string, () => number>();
  private readonly listeners = new Set<(config: FaultConfig) => void>();

  constructor(initial?: Partial<FaultConfig>) {
    this.configure(initial ?? {});
  }

  get current(): FaultConfig {
    return structuredClone(this.config);
  }

  /** Merges `patch` into the configuration; a new seed (or any change) restarts the streams. */
  configure(patch: Partial<FaultConfig>): FaultConfig {
    this.config = {
      ...this.config,
      ...patch,
      webhooks: { ...this.config.webhooks, ...patch.webhooks },
    };
    this.pathPatterns = this.config.paths.map((p) => new RegExp(p));
    this.streams.clear();
    for (const listener of this.listeners) listener(this.current);
    return this.current;
  }

  /** Tells `listener` about every configuration change (the webhook deliverer listens). */
  onChange(listener: (config: FaultConfig) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A uniform number in [0, 1) from the named stream. */
  random(stream: string): number {
    let next = this.streams.get(stream);
    if (!next) {
      next = mulberry32(this.config.seed ^ hashName(stream));
      this.streams.set(stream, next);
    }
    return next();
  }

  /** Draws a delay from a distribution using the named stream. */
  sampleLatency(latency: Latency, stream: string): number {
    switch (latency.kind) {
      case 'none':
        return 0;
      case 'fixed':
        return latency.ms;
      case 'uniform':
        return latency.minMs + this.random(stream) * (latency.maxMs - latency.minMs);
      case 'normal': {
        // Box-Muller; negative draws clamp to zero.
        const u = 1 - this.random(stream);
        const v = this.random(stream);
        const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        return Math.max(0, latency.meanMs + z * latency.stddevMs);
      }
      case 'exponential':
        return -Math.log(1 - this.random(stream)) * latency.meanMs;
    }
  }

  /** Decides the fate of one request; every request draws the same number of values. */
  decide(path: string, isGit: boolean): FaultDecision {
    const applies = isGit ? this.config.includeGit : this.pathPatterns.some((p) => p.test(path));
    const stream = isGit ? 'git' : 'api';
    if (!applies) return { latencyMs: 0, errorStatus: null, reset: false };
    const latencyMs = this.sampleLatency(this.config.latency, `${stream}:latency`);
    const resetDraw = this.random(stream);
    const errorDraw = this.random(stream);
    const statusDraw = this.random(stream);
    const statuses = this.config.errorStatuses;
    return {
      latencyMs,
      reset: resetDraw < this.config.resetRate,
      errorStatus:
        errorDraw < this.config.errorRate && statuses.length > 0
          ? statuses[Math.floor(statusDraw * statuses.length)]!
          : null,
    };
  }
}
