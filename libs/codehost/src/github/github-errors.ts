import { GraphqlResponseError } from '@octokit/graphql';
import { RequestError } from '@octokit/request-error';
import { CodeHostError, type CodeHostErrorContext } from '../errors.js';

type Headers = Record<string, string | number | undefined>;

/** Turns whatever octokit threw into a `CodeHostError` saying what failed and where. */
export function toCodeHostError(
  error: unknown,
  context: CodeHostErrorContext,
  now = Date.now(),
): CodeHostError {
  if (error instanceof CodeHostError) return error;
  if (error instanceof GraphqlResponseError) {
    const errors = (error.errors ?? []) as { type?: string; message: string }[];
    const message = errors.map((e) => e.message).join('; ');
    if (errors.some((e) => e.type === 'RATE_LIMITED')) {
      return new CodeHostError('rate_limited', `GraphQL rate limit: ${message}`, context, {
        retryAfterMs: rateLimitWaitMs(error.headers as Headers, now),
        cause: error,
      });
    }
    return new CodeHostError('terminal', `GraphQL error: ${message}`, context, { cause: error });
  }
  if (error instanceof RequestError) {
    const status = error.status;
    const headers = (error.response?.headers ?? {}) as Headers;
    const ctx = { ...context, status };
    const githubMessage = messageOf(error);
    if ((status === 403 || status === 429) && isRateLimit(githubMessage, headers)) {
      return new CodeHostError('rate_limited', `${status} rate limited: ${githubMessage}`, ctx, {
        retryAfterMs: rateLimitWaitMs(headers, now),
        cause: error,
      });
    }
    if (status >= 500 || status === 408 || status === 0) {
      return new CodeHostError('retryable', `${status} server error: ${githubMessage}`, ctx, {
        cause: error,
      });
    }
    return new CodeHostError(
      'terminal',
      `${status} ${describeStatus(status, githubMessage)}`,
      ctx,
      {
        cause: error,
      },
    );
  }
  // Network failures that never became an HTTP answer (resets, timeouts, DNS).
  const message = error instanceof Error ? error.message : String(error);
  return new CodeHostError('retryable', `request failed: ${message}`, context, { cause: error });
}

function messageOf(error: RequestError): string {
  const data = error.response?.data as
    { message?: string; errors?: { message?: string }[] } | undefined;
  const details = (data?.errors ?? []).map((e) => e.message).filter((m) => m !== undefined);
  const base = data?.message ?? error.message;
  return details.length > 0 ? `${base} (${details.join('; ')})` : base;
}

function isRateLimit(message: string, headers: Headers): boolean {
  return (
    /rate limit/i.test(message) ||
    headers['retry-after'] !== undefined ||
    String(headers['x-ratelimit-remaining']) === '0'
  );
}

function describeStatus(status: number, message: string): string {
  if (status === 401) return `bad credentials: ${message} — check the code host's token`;
  if (/archived/i.test(message)) return `${message} — the repository is archived and read-only`;
  if (status === 403) return `forbidden: ${message} — the token lacks access`;
  if (status === 404) return `not found: ${message} — it does not exist or the token cannot see it`;
  if (status === 422) return `validation failed: ${message}`;
  return message;
}

/** `retry-after` (seconds) when present, else the time until `x-ratelimit-reset` (epoch seconds). */
export function rateLimitWaitMs(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && headers['retry-after'] !== undefined)
    return Math.max(0, retryAfter * 1000);
  const reset = Number(headers['x-ratelimit-reset']);
  if (Number.isFinite(reset) && headers['x-ratelimit-reset'] !== undefined) {
    return Math.max(0, reset * 1000 - now) + 1000;
  }
  return undefined;
}
