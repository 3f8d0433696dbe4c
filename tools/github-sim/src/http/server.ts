// The HTTP pipeline: git smart HTTP, the control API, and the GitHub API (REST and whatever
// plugins add under /api) with GitHub's authentication, headers, faults, rate limits,
// conditional requests and error bodies. Every request lands in the request log.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { isGitRequest, serveGit } from '../git/http-backend.js';
import { budgetKey, type LimitRefusal, type RateSnapshot } from '../limits/rate-limits.js';
import type { Token } from '../state/model.js';
import { StateError } from '../state/sim-state.js';
import type { RequestLogEntry, SimCore } from '../sim-core.js';
import { HttpError, notFound } from './http-error.js';
import type { ApiResponse } from './router.js';

const gunzipAsync = promisify(gunzip);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const RATE_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';

function requestId(): string {
  const hex = randomBytes(10).toString('hex').toUpperCase();
  return `${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 14)}:${hex.slice(14, 20)}:${Math.floor(
    Date.now() / 1000,
  )
    .toString(16)
    .toUpperCase()}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipAsync(body) : body;
}

function rateHeaders(snapshot: RateSnapshot): Record<string, string> {
  return {
    'x-ratelimit-limit': String(snapshot.limit),
    'x-ratelimit-remaining': String(snapshot.remaining),
    'x-ratelimit-reset': String(snapshot.reset),
    'x-ratelimit-used': String(snapshot.used),
    'x-ratelimit-resource': snapshot.resource,
  };
}

function refusalError(
  refusal: LimitRefusal,
  token: Token | null,
  id: string,
  core: SimCore,
): HttpError {
  const headers = rateHeaders(refusal.snapshot);
  if (refusal.kind === 'primary') {
    const who = token ? `user ID ${core.state.accountOrGhost(token.login).id}` : 'your IP address';
    return new HttpError(
      core.primaryLimitStatus,
      `API rate limit exceeded for ${who}. If you reach out to GitHub Support for help, please include the request ID ${id}.`,
      RATE_DOCS,
      undefined,
      headers,
    );
  }
  const message =
    refusal.reason === 'content'
      ? `You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later. If you reach out to GitHub Support for help, please include the request ID ${id}.`
      : `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${id}.`;
  return new HttpError(403, message, `${RATE_DOCS}#about-secondary-rate-limits`, undefined, {
    ...headers,
    'retry-after': String(refusal.retryAfterSeconds),
  });
}

export function createRequestListener(
  core: SimCore,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(core, req, res).catch((error) => {
      console.error('github-sim: request failed', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end();
    });
  };
}

async function handle(core: SimCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const id = requestId();
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const queryString = q < 0 ? '' : url.slice(q + 1);
  const method = req.method ?? 'GET';
  const log = (entry: Partial<RequestLogEntry> & Pick<RequestLogEntry, 'kind' | 'status'>) =>
    core.logRequest({
      requestId: id,
      at: new Date().toISOString(),
      method,
      path,
      token: null,
      login: null,
      createdContent: false,
      durationMs: performance.now() - started,
      ...entry,
    });

  if (path.startsWith('/_control/')) {
    const status = await serveControl(core, req, res, path.slice('/_control/'.length), queryString);
    log({ kind: 'control', status });
    return;
  }

  const token = core.authenticate(req.headers.authorization);
  const tokenFields =
    token && token !== 'invalid' ? { token: token.token, login: token.login } : {};

  if (isGitRequest(path)) {
    const fault = core.faults.decide(path, true);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault.reset) {
      req.socket.destroy();
      log({ kind: 'git', status: 0, ...tokenFields });
      return;
    }
    if (fault.errorStatus !== null) {
      res.writeHead(fault.errorStatus, { 'content-type': 'text/plain' });
      res.end('Server Error\n');
      log({ kind: 'git', status: fault.errorStatus, ...tokenFields });
      return;
    }
    const status = await serveGit(core, req, res, path, queryString, token);
    log({ kind: 'git', status, ...tokenFields });
    return;
  }

  if (!path.startsWith('/api/')) {
    send(
      res,
      404,
      { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
      { 'x-github-request-id': id },
    );
    log({ kind: 'other', status: 404 });
    return;
  }

  const kind = path.startsWith('/api/graphql') ? 'graphql' : 'rest';
  const headers: Record<string, string> = {
    'x-github-request-id': id,
    'x-github-api-version-selected': String(req.headers['x-github-api-version'] ?? '2022-11-28'),
    'x-github-media-type': 'github.v3; format=json',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'deny',
    'x-xss-protection': '0',
    'referrer-policy': 'origin-when-cross-origin, strict-origin-when-cross-origin',
    'access-control-allow-origin': '*',
    'access-control-expose-headers':
      'ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset',
    server: 'github-sim',
  };
  if (token === 'invalid') {
    const error = new HttpError(401, 'Bad credentials', 'https://docs.github.com/rest');
    send(res, 401, error.body(), headers);
    log({ kind, status: 401 });
    return;
  }
  if (token) headers['x-oauth-scopes'] = 'repo, workflow, admin:org, admin:repo_hook';

  const matched = core.router.match(method, path);
  const route = matched && matched !== 'method-not-allowed' ? matched.route : null;
  const remote = req.socket.remoteAddress ?? '';
  const key = budgetKey(token, remote);
  const limits = core.limitsOf(token);
  const resource = route?.resource ?? 'core';
  const createsContent = route?.createsContent === true;
  let admitted = false;
  let status = 500;

  try {
    if (!route) throw notFound();
    const charge = route.charge !== false;
    const refusal = core.limits.admit(key, limits, resource, {
      createsContent,
      cost: charge ? 1 : 0,
    });
    if (refusal) {
      core.limitRefusals[refusal.kind]++;
      core.limitRefusalLog.push({
        at: Date.now(),
        kind: refusal.kind,
        reason: refusal.kind === 'secondary' ? refusal.reason : 'primary',
        method,
        path,
      });
      if (core.limitRefusalLog.length > core.requestLogCapacity) core.limitRefusalLog.shift();
      throw refusalError(refusal, token, id, core);
    }
    admitted = true;
    if (charge || createsContent)
      Object.assign(headers, rateHeaders(core.limits.snapshot(key, limits, resource)));

    // Faults act on admitted requests: a slow request holds its concurrency slot, as on GitHub.
    const fault = core.faults.decide(path, false);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault.reset) {
      status = 0;
      req.socket.destroy();
      return;
    }
    if (fault.errorStatus !== null) {
      throw new HttpError(
        fault.errorStatus,
        fault.errorStatus === 503 ? 'Service Unavailable' : 'Server Error',
      );
    }

    let body: unknown;
    if (method !== 'GET' && method !== 'HEAD' && !route.raw) {
      const raw = await readBody(req);
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new HttpError(400, 'Problems parsing JSON', 'https://docs.github.com/rest');
        }
      }
    }
    const result: ApiResponse = (await route.handler({
      req,
      res,
      method,
      path,
      params: (matched as Exclude<typeof matched, 'method-not-allowed' | null>)!.params,
      query: new URLSearchParams(queryString),
      token,
      viewer: token?.login ?? null,
      requestId: id,
      body,
    })) ?? { status: 204 };
    if (route.raw) {
      status = res.statusCode;
    } else {
      status = result.status ?? 200;
      const text = result.body === undefined ? '' : JSON.stringify(result.body);
      Object.assign(headers, result.headers);
      if (method === 'GET' && status === 200) {
        const etag = `W/"${createHash('sha1').update(text).digest('hex')}"`;
        headers.etag = etag;
        headers['cache-control'] = token
          ? 'private, max-age=60, s-maxage=60'
          : 'public, max-age=60, s-maxage=60';
        headers.vary = 'Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding';
        const inm = req.headers['if-none-match'];
        if (
          inm !== undefined &&
          inm.split(/\s*,\s*/).some((t) => t === etag || t === etag.slice(2) || t === '*')
        ) {
          // GitHub does not count 304s against the primary limit.
          if (charge) {
            core.limits.refund(key, limits, resource);
            Object.assign(headers, rateHeaders(core.limits.snapshot(key, limits, resource)));
          }
          status = 304;
          res.writeHead(304, headers);
          res.end();
          return;
        }
      }
      if (status === 204 || text === '') {
        res.writeHead(status, headers);
        res.end();
      } else {
        send(res, status, text, headers);
      }
    }
  } catch (error) {
    const httpError =
      error instanceof HttpError
        ? error
        : error instanceof StateError
          ? new HttpError(error.status, error.message)
          : (console.error('github-sim: handler failed', error),
            new HttpError(500, 'Server Error'));
    status = httpError.status;
    if (!res.headersSent) send(res, status, httpError.body(), { ...headers, ...httpError.headers });
    else res.end();
  } finally {
    if (admitted) core.limits.release(key);
    log({
      kind,
      status,
      createdContent: createsContent && admitted && status > 0 && status < 400,
      ...tokenFields,
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

async function serveControl(
  core: SimCore,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  query: string,
): Promise<number> {
  const handler = core.controlCommands.get(name);
  if (!handler) {
    send(
      res,
      404,
      {
        message: `Unknown control command ${name}`,
        commands: [...core.controlCommands.keys()].sort(),
      },
      {},
    );
    return 404;
  }
  try {
    let input: unknown = Object.fromEntries(new URLSearchParams(query));
    if (req.method === 'POST' || req.method === 'PUT') {
      const raw = await readBody(req);
      if (raw.length > 0) input = JSON.parse(raw.toString('utf8'));
    }
    const output = await handler(input as never, core);
    send(res, 200, output === undefined ? {} : output, {});
    return 200;
  } catch (error) {
    const status = error instanceof StateError || error instanceof HttpError ? error.status : 400;
    send(res, status, { message: error instanceof Error ? error.message : String(error) }, {});
    return status;
  }
}
