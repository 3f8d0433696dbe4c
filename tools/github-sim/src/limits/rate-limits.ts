// GitHub's rate limits, per token: the primary limits (core, search, graphql points; fixed windows
// that start with the first request), the secondary content-creation limit (80/min, 500/h) and a
// concurrency limit. Anonymous callers share one budget per address, as on GitHub (60/h).
import type { Token, TokenLimits } from '../state/model.js';
import { DEFAULT_TOKEN_LIMITS } from '../state/sim-state.js';

export type RateResource = 'core' | 'search' | 'graphql' | 'code_search';

export interface RateSnapshot {
  resource: RateResource;
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds when the window resets. */
  reset: number;
}

interface Window {
  startedAt: number;
  used: number;
}

interface Budget {
  windows: Map<RateResource, Window>;
  /** Timestamps (ms) of content-creating requests within the last hour. */
  content: number[];
  inFlight: number;
}

/** Why a request was refused, with what GitHub would send. */
export type LimitRefusal =
  | { kind: 'primary'; snapshot: RateSnapshot }
  | {
      kind: 'secondary';
      reason: 'content' | 'concurrency';
      retryAfterSeconds: number;
      snapshot: RateSnapshot;
    };

export const ANONYMOUS_LIMITS: TokenLimits = {
  ...DEFAULT_TOKEN_LIMITS,
  core: 60,
  search: 10,
  graphql: 0,
};

export class RateLimits {
  private readonly budgets = new Map<string, Budget>();

  constructor(private readonly now: () => number = Date.now) {}

  private budget(key: string): Budget {
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = { windows: new Map(), content: [], inFlight: 0 };
      this.budgets.set(key, budget);
    }
    return budget;
  }

  private limitOf(limits: TokenLimits, resource: RateResource): number {
    if (resource === 'code_search') return Math.max(1, Math.floor(limits.search / 3));
    return limits[resource];
  }

  private windowSeconds(limits: TokenLimits, resource: RateResource): number {
    return resource === 'search' || resource === 'code_search' ? 60 : limits.windowSeconds;
  }

  private window(key: string, limits: TokenLimits, resource: RateResource): Window {
    const budget = this.budget(key);
    const now = this.now();
    let window = budget.windows.get(resource);
    if (!window || now >= window.startedAt + this.windowSeconds(limits, resource) * 1000) {
      window = { startedAt: now, used: 0 };
      budget.windows.set(resource, window);
    }
    return window;
  }

  /** The budget of one resource right now, without using any. */
  snapshot(key: string, limits: TokenLimits, resource: RateResource): RateSnapshot {
    const limit = this.limitOf(limits, resource);
    const budget = this.budgets.get(key);
    const existing = budget?.windows.get(resource);
    const now = this.now();
    const window =
      existing && now < existing.startedAt + this.windowSeconds(limits, resource) * 1000
        ? existing
        : { startedAt: now, used: 0 };
    return {
      resource,
      limit,
      used: window.used,
      remaining: Math.max(0, limit - window.used),
      reset: Math.ceil((window.startedAt + this.windowSeconds(limits, resource) * 1000) / 1000),
    };
  }

  /**
   * Admits a request: checks concurrency, the secondary content limit and the primary limit, in
   * GitHub's order, and counts it. Call `release` when the response is finished.
   */
  admit(
    key: string,
    limits: TokenLimits,
    resource: RateResource,
    options: { createsContent: boolean; cost?: number },
  ): LimitRefusal | null {
    const budget = this.budget(key);
    if (limits.disabled) {
      budget.inFlight++;
      return null;
    }
    const window = this.window(key, limits, resource);
    const snapshot = () => this.snapshot(key, limits, resource);
    if (budget.inFlight >= limits.concurrency) {
      return {
        kind: 'secondary',
        reason: 'concurrency',
        retryAfterSeconds: limits.secondaryRetryAfterSeconds,
        snapshot: snapshot(),
      };
    }
    const cost = options.cost ?? 1;
    if (window.used + cost > this.limitOf(limits, resource)) {
      return { kind: 'primary', snapshot: snapshot() };
    }
    if (options.createsContent) {
      const now = this.now();
      const hourAgo = now - 3_600_000;
      while (budget.content.length > 0 && budget.content[0]! <= hourAgo) budget.content.shift();
      const minuteAgo = now - 60_000;
      let lastMinute = 0;
      for (let i = budget.content.length - 1; i >= 0 && budget.content[i]! > minuteAgo; i--)
        lastMinute++;
      if (lastMinute >= limits.contentPerMinute || budget.content.length >= limits.contentPerHour) {
        return {
          kind: 'secondary',
          reason: 'content',
          retryAfterSeconds: limits.secondaryRetryAfterSeconds,
          snapshot: snapshot(),
        };
      }
      budget.content.push(now);
    }
    window.used += cost;
    budget.inFlight++;
    return null;
  }

  release(key: string): void {
    const budget = this.budgets.get(key);
    if (budget && budget.inFlight > 0) budget.inFlight--;
  }

  /** Gives back a request's cost (GitHub does not count 304 answers to conditional requests). */
  refund(key: string, limits: TokenLimits, resource: RateResource, cost = 1): void {
    const window = this.budgets.get(key)?.windows.get(resource);
    if (window && !limits.disabled) window.used = Math.max(0, window.used - cost);
  }

  /**
   * Charges GraphQL points for a query (the GraphQL endpoint calls this with the query's cost).
   * Returns the budget after the charge, or null with the budget unchanged when it does not fit.
   */
  chargeGraphql(
    key: string,
    limits: TokenLimits,
    points: number,
  ): { ok: boolean; snapshot: RateSnapshot } {
    if (limits.disabled) return { ok: true, snapshot: this.snapshot(key, limits, 'graphql') };
    const window = this.window(key, limits, 'graphql');
    if (window.used + points > limits.graphql) {
      return { ok: false, snapshot: this.snapshot(key, limits, 'graphql') };
    }
    window.used += points;
    return { ok: true, snapshot: this.snapshot(key, limits, 'graphql') };
  }

  /** Forgets every budget (control API: "reset limits"). */
  reset(key?: string): void {
    if (key === undefined) this.budgets.clear();
    else this.budgets.delete(key);
  }
}

/** The key a request's budget is kept under. */
export function budgetKey(token: Token | null, remoteAddress: string): string {
  return token ? `token:${token.token}` : `ip:${remoteAddress}`;
}
