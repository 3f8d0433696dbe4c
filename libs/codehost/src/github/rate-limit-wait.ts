// Waiting out GitHub's rate limits on the adapter's read requests, without plugin-throttling:
// its Bottleneck queues let about 350 requests a second through however many run at once, which
// made the tree listings of a first index take three times as long as GitHub (or the simulator)
// needs to answer them.
import { sleep } from '@campaigns/events';
import { RequestError } from '@octokit/request-error';
import { rateLimitWaitMs } from './github-errors.js';

/** A rate-limit answer: which limit, and how long GitHub says to wait before trying again. */
export interface RateLimitHit {
  kind: 'primary' | 'secondary';
  waitMs: number;
}

/** What plugin-throttling waits when a secondary limit answer has no `retry-after`. */
const FALLBACK_SECONDARY_WAIT_MS = 60_000;

/** The limit a failed request hit, if it was one (403 or 429 with GitHub's rate-limit signs). */
export function rateLimitHit(error: unknown, now = Date.now()): RateLimitHit | undefined {
  if (!(error instanceof RequestError) || (error.status !== 403 && error.status !== 429))
    return undefined;
  const headers = (error.response?.headers ?? {}) as Record<string, string | number | undefined>;
  const message = `${error.message} ${String((error.response?.data as { message?: string } | undefined)?.message ?? '')}`;
  if (/secondary rate limit/i.test(message) || headers['retry-after'] !== undefined) {
    return {
      kind: 'secondary',
      waitMs: rateLimitWaitMs(headers, now) ?? FALLBACK_SECONDARY_WAIT_MS,
    };
  }
  if (String(headers['x-ratelimit-remaining']) === '0') {
    return { kind: 'primary', waitMs: rateLimitWaitMs(headers, now) ?? 0 };
  }
  return undefined;
}

export interface RateLimitPolicy {
  /** Secondary-limit answers waited out per request. */
  secondaryLimitRetries: number;
  /** A primary-limit wait up to this long is waited out (once); a longer one is surfaced. */
  maxPrimaryLimitWaitMs: number;
}

/** Whether to wait out a hit on the `attempt`-th (0-based) try of a request. */
export function waitsOut(hit: RateLimitHit, attempt: number, policy: RateLimitPolicy): boolean {
  return hit.kind === 'primary'
    ? attempt < 1 && hit.waitMs <= policy.maxPrimaryLimitWaitMs
    : attempt < policy.secondaryLimitRetries;
}

/**
 * An octokit `request` hook that waits out rate limits as the policy says, saying so through
 * `log` in the words plugin-throttling's handlers use; anything else is thrown as it came.
 */
export function waitingOutRateLimits<O extends { method?: string; url?: string }, R>(
  policy: RateLimitPolicy,
  log: (message: string) => void,
): (request: (options: O) => R | Promise<R>, options: O) => Promise<R> {
  return async (request, options) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(options);
      } catch (error) {
        const hit = rateLimitHit(error);
        if (hit === undefined) throw error;
        const wait = waitsOut(hit, attempt, policy);
        const seconds = Math.ceil(hit.waitMs / 1000);
        const outcome = wait
          ? `waiting ${seconds}s`
          : hit.kind === 'primary'
            ? 'surfacing the wait'
            : 'giving up';
        log(`${hit.kind} rate limit on ${options.method} ${options.url}; ${outcome}`);
        if (!wait) throw error;
        await sleep(hit.waitMs);
      }
    }
  };
}
