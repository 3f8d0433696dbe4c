import { RequestError } from '@octokit/request-error';
import { describe, expect, it } from '@jest/globals';
import { rateLimitHit, waitingOutRateLimits, waitsOut } from './rate-limit-wait.js';

const NOW = 1_800_000_000_000;
const request = {
  method: 'GET' as const,
  url: 'https://api.github.com/repos/acme/api/git/trees/main',
  headers: {},
};

function requestError(status: number, message: string, headers: Record<string, string> = {}) {
  return new RequestError(message, status, {
    request,
    response: { status, url: request.url, headers, data: { message } },
  });
}

const policy = { secondaryLimitRetries: 2, maxPrimaryLimitWaitMs: 60_000 };

describe('rateLimitHit', () => {
  it('reads a secondary limit and its retry-after', () => {
    const error = requestError(403, 'You have exceeded a secondary rate limit.', {
      'retry-after': '30',
    });
    expect(rateLimitHit(error, NOW)).toEqual({ kind: 'secondary', waitMs: 30_000 });
  });

  it('waits a minute for a secondary limit that does not say how long', () => {
    const error = requestError(403, 'You have exceeded a secondary rate limit.');
    expect(rateLimitHit(error, NOW)).toEqual({ kind: 'secondary', waitMs: 60_000 });
  });

  it('reads a primary limit (403 or 429) and waits until its reset, a second after', () => {
    const headers = { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 20) };
    for (const status of [403, 429]) {
      expect(rateLimitHit(requestError(status, 'API rate limit exceeded', headers), NOW)).toEqual({
        kind: 'primary',
        waitMs: 21_000,
      });
    }
  });

  it('is no limit for other failures, a 403 without GitHub’s signs included', () => {
    expect(rateLimitHit(requestError(403, 'Resource not accessible by integration'))).toBe(
      undefined,
    );
    expect(rateLimitHit(requestError(502, 'Bad Gateway'))).toBeUndefined();
    expect(rateLimitHit(new TypeError('fetch failed'))).toBeUndefined();
  });
});

describe('waitsOut', () => {
  it('waits out a short primary limit once, and surfaces a long one', () => {
    expect(waitsOut({ kind: 'primary', waitMs: 60_000 }, 0, policy)).toBe(true);
    expect(waitsOut({ kind: 'primary', waitMs: 60_000 }, 1, policy)).toBe(false);
    expect(waitsOut({ kind: 'primary', waitMs: 60_001 }, 0, policy)).toBe(false);
  });

  it('waits out secondary limits as many times as the policy says', () => {
    expect(waitsOut({ kind: 'secondary', waitMs: 1_000 }, 1, policy)).toBe(true);
    expect(waitsOut({ kind: 'secondary', waitMs: 1_000 }, 2, policy)).toBe(false);
  });
});

describe('waitingOutRateLimits', () => {
  it('retries a request after a secondary limit’s wait and says so', async () => {
    const logs: string[] = [];
    const answers = [requestError(403, 'secondary rate limit', { 'retry-after': '0' }), 'tree'];
    const hook = waitingOutRateLimits<{ method: string; url: string }, string>(policy, (m) =>
      logs.push(m),
    );
    const result = await hook(
      () => {
        const next = answers.shift();
        if (next instanceof Error) throw next;
        return Promise.resolve(next!);
      },
      { method: 'GET', url: '/repos/acme/api/git/trees/main' },
    );
    expect(result).toBe('tree');
    expect(logs).toEqual([
      'secondary rate limit on GET /repos/acme/api/git/trees/main; waiting 0s',
    ]);
  });

  it('throws what the request threw once the policy gives up', async () => {
    const limited = requestError(403, 'secondary rate limit', { 'retry-after': '0' });
    const logs: string[] = [];
    const hook = waitingOutRateLimits<{ method: string; url: string }, string>(
      { ...policy, secondaryLimitRetries: 0 },
      (m) => logs.push(m),
    );
    await expect(hook(() => Promise.reject(limited), { method: 'GET', url: '/x' })).rejects.toBe(
      limited,
    );
    expect(logs).toEqual(['secondary rate limit on GET /x; giving up']);
  });
});
