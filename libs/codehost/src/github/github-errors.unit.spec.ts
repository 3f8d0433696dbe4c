import { GraphqlResponseError } from '@octokit/graphql';
import { RequestError } from '@octokit/request-error';
import { describe, expect, it } from '@jest/globals';
import { rateLimitWaitMs, toCodeHostError } from './github-errors.js';

const where = { operation: 'update pull request', repo: 'github.com/acme/api', number: 12 };
const request = {
  method: 'PATCH' as const,
  url: 'https://api.github.com/repos/acme/api/pulls/12',
  headers: {},
};

function requestError(status: number, message: string, headers: Record<string, string> = {}) {
  return new RequestError(message, status, {
    request,
    response: { status, url: request.url, headers, data: { message } },
  });
}

describe('toCodeHostError', () => {
  it.each([
    [502, 'Bad Gateway', {}, 'retryable'],
    [401, 'Bad credentials', {}, 'terminal'],
    [403, 'Repository was archived so is read-only.', {}, 'terminal'],
    [422, 'Validation Failed', {}, 'terminal'],
    [403, 'You have exceeded a secondary rate limit.', { 'retry-after': '30' }, 'rate_limited'],
    [
      429,
      'API rate limit exceeded for user ID 1.',
      { 'x-ratelimit-remaining': '0' },
      'rate_limited',
    ],
  ] as const)('classifies %i "%s" with headers %j as %s', (status, message, headers, kind) => {
    const error = toCodeHostError(requestError(status, message, headers), where);
    expect(error.kind).toBe(kind);
    expect(error.message).toContain(`update pull request github.com/acme/api #12: ${status}`);
  });

  it('treats failures without an HTTP answer as retryable', () => {
    const error = toCodeHostError(new TypeError('fetch failed'), where);
    expect(error).toMatchObject({
      kind: 'retryable',
      message: expect.stringContaining('fetch failed'),
    });
  });

  it('reads GraphQL RATE_LIMITED answers as rate_limited with the wait until the reset', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const reset = String(now / 1000 + 120);
    const error = toCodeHostError(
      new GraphqlResponseError(
        { method: 'POST', url: '/api/graphql' },
        { 'x-ratelimit-reset': reset },
        {
          data: undefined as never,
          errors: [{ type: 'RATE_LIMITED', message: 'API rate limit exceeded' } as never],
        },
      ),
      { operation: 'load 100 pull requests' },
      now,
    );
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 121_000 });
  });
});

describe('rateLimitWaitMs', () => {
  it('prefers retry-after, then the reset time, and says nothing without either', () => {
    expect(rateLimitWaitMs({ 'retry-after': '60', 'x-ratelimit-reset': '0' })).toBe(60_000);
    expect(rateLimitWaitMs({ 'x-ratelimit-reset': '1010' }, 1_000_000)).toBe(11_000);
    expect(rateLimitWaitMs({})).toBeUndefined();
  });
});
