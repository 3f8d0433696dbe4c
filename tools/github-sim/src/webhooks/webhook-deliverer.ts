// Delivers webhook events to hooks over HTTP the way GitHub's Hookshot does: GitHub's headers,
// an HMAC signature of the exact body, a 10 s timeout, a delivery log and redelivery. It listens
// to the state's change feed and renders each change when it happens; sending is asynchronous,
// one delivery at a time per hook, in the order the changes happened (unless a fault says not).
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CommitInfo } from '../git/repo-store.js';
import type { Faults, WebhookFaults } from '../limits/faults.js';
import type { GithubJson } from '../representations/github-json.js';
import type { StateChange } from '../state/events.js';
import type { Hook, Repository } from '../state/model.js';
import type { SimState } from '../state/sim-state.js';
import {
  DeliveryLog,
  lastResponseOf,
  type DeliveryFilter,
  type DeliveryRecord,
} from './delivery-log.js';
import {
  commitShaFor,
  deliveredEvents,
  pingEvent,
  webhookEventFor,
  type WebhookEvent,
} from './payloads.js';
import { signatureSha1, signatureSha256 } from './signature.js';

/** How failed deliveries (no answer, or not 2xx) are tried again. */
export interface RetryPolicy {
  /** Tries in all, the first included; 1 means no retries (GitHub's own behaviour). */
  maxAttempts: number;
  /** Wait before the first retry; each further retry waits `factor` times longer. */
  initialBackoffMs: number;
  factor: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  initialBackoffMs: 1000,
  factor: 2,
  maxBackoffMs: 30_000,
};

export interface WebhookDelivererOptions {
  state: SimState;
  /** Renders GitHub's JSON with the simulator's URLs. */
  json: GithubJson;
  /** The simulator's fault configuration; its `webhooks` part applies here. */
  faults?: Faults;
  /** Reads a commit from git, for payloads that describe one in full (status, check_suite, push). */
  readCommit?: (repository: Repository, sha: string) => Promise<CommitInfo | null>;
  retry?: Partial<RetryPolicy>;
  /** How long a receiver may take to answer (GitHub: 10 s). */
  timeoutMs?: number;
  /** How long a delivery held back by the reorder fault waits for the next one (default 250 ms). */
  reorderWindowMs?: number;
  /** Delivery attempts kept in the log. */
  logCapacity?: number;
  /** GitHub Enterprise Server version sent in `X-GitHub-Enterprise-Version`. */
  enterpriseVersion?: string;
}

/** Attempts of one event to one hook, queued or scheduled. */
interface Job {
  guid: string;
  hookId: number;
  event: string;
  action: string | null;
  repositoryId: number | null;
  body: Promise<string>;
  attempt: number;
  redelivery: boolean;
  duplicate: boolean;
  /** Held back by the reorder fault until this time (ms) or until another delivery overtakes it. */
  heldUntil: number;
  /** Told the outcome of a ping or redelivery someone waits for. */
  done?: (record: DeliveryRecord) => void;
  failed?: (error: Error) => void;
}

interface Attempt {
  statusCode: number | null;
  status: string;
  headers: Record<string, string>;
  payload: string | null;
}

const NO_FAULTS: WebhookFaults = {
  latency: { kind: 'none' },
  failureRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
};
const RESPONSE_CAP = 64 * 1024;
const USER_AGENT = 'GitHub-Hookshot/5a1c0de';

export class WebhookDeliverer {
  private readonly log: DeliveryLog;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly reorderWindowMs: number;
  private readonly queues = new Map<number, Job[]>();
  private readonly running = new Set<number>();
  private readonly wakeups = new Map<number, () => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Ends of waits in progress (fault latency), cut short by `stop`. */
  private readonly sleepers = new Set<() => void>();
  private readonly inFlight = new Set<{ destroy(error?: Error): unknown }>();
  private readonly idleWaiters: (() => void)[] = [];
  private pending = 0;
  private nextDeliveryId = 1;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly options: WebhookDelivererOptions) {
    this.log = new DeliveryLog(options.logCapacity);
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.reorderWindowMs = options.reorderWindowMs ?? 250;
  }

  /** Starts listening to the change feed. */
  start(): void {
    this.stopped = false;
    this.unsubscribe ??= this.options.state.on('change', (change) => this.changed(change), {
      onlyWhenHooked: true,
    });
  }

  /** Stops listening, cancels scheduled retries and aborts deliveries in flight. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.sleepers) wake();
    for (const request of this.inFlight) request.destroy(new Error('github-sim stopped'));
    for (const queue of this.queues.values()) {
      for (const job of queue)
        job.failed?.(new Error(`github-sim stopped before delivering ${job.guid}`));
    }
    this.queues.clear();
    for (const wake of this.wakeups.values()) wake();
    this.pending = 0;
    this.settleIfIdle();
  }

  /** Resolves once nothing is queued, in flight or scheduled for a retry. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  deliveries(filter?: DeliveryFilter): DeliveryRecord[] {
    return this.log.list(filter);
  }

  delivery(id: number): DeliveryRecord | undefined {
    return this.log.get(id);
  }

  /** GitHub's `last_response` of a hook. */
  lastResponse(hookId: number): ReturnType<typeof lastResponseOf> {
    return lastResponseOf(this.log.latest(hookId));
  }

  /**
   * Sends the `ping` GitHub sends when a hook is created (and on `POST …/hooks/{id}/pings`).
   * Resolves with the attempt's record.
   */
  ping(hook: Hook, senderLogin?: string): Promise<DeliveryRecord> {
    const { state, json } = this.options;
    const repository =
      hook.scope === 'repository' ? state.getRepositoryById(hook.owner_id) : undefined;
    const organization =
      hook.scope === 'organization' ? state.getAccountById(hook.owner_id) : undefined;
    const ownerLogin = repository?.owner ?? organization?.login ?? 'ghost';
    const event = pingEvent(
      hook,
      { repository, organization, sender: state.accountOrGhost(senderLogin ?? ownerLogin) },
      json,
      this.lastResponse(hook.id),
    );
    return new Promise((resolve, reject) => {
      const body = Promise.resolve(bodyOf(hook, event));
      this.enqueue(
        this.jobFor(hook, event, repository?.id ?? null, body, { done: resolve, failed: reject }),
        false,
      );
    });
  }

  /**
   * Sends a logged delivery again, with the same `X-GitHub-Delivery` and body, as GitHub's
   * "Redeliver" does; it is tried once. Resolves with the new attempt's record.
   */
  redeliver(deliveryId: number): Promise<DeliveryRecord> {
    const original = this.log.get(deliveryId);
    if (original === undefined)
      return Promise.reject(new Error(`No webhook delivery ${deliveryId}`));
    const hook = this.options.state.getHook(original.hookId);
    if (hook === undefined)
      return Promise.reject(
        new Error(`Hook ${original.hookId} of delivery ${deliveryId} no longer exists`),
      );
    return new Promise((resolve, reject) => {
      const job: Job = {
        guid: original.guid,
        hookId: hook.id,
        event: original.event,
        action: original.action,
        repositoryId: original.repositoryId,
        body: Promise.resolve(original.request.payload),
        attempt: 1,
        redelivery: true,
        duplicate: false,
        heldUntil: 0,
        done: resolve,
        failed: reject,
      };
      this.enqueue(job, false);
    });
  }

  private get faults(): WebhookFaults {
    return this.options.faults?.current.webhooks ?? NO_FAULTS;
  }

  private random(hookId: number, purpose: 'enqueue' | 'attempt'): number {
    return this.options.faults?.random(`webhooks:${hookId}:${purpose}`) ?? 1;
  }

  private changed(change: StateChange): void {
    if (!Object.hasOwn(deliveredEvents, change.type)) return;
    const hooks = this.options.state.hooksFor(change.repository, change.type);
    if (hooks.length === 0) return;
    // Rendered at once, so the payload shows the state right after the change; only payloads
    // that describe a commit in full wait for git to read it (a commit never changes).
    const { json } = this.options;
    const sha = commitShaFor(change);
    const rendered =
      sha === null
        ? Promise.resolve(webhookEventFor(change, json, null))
        : this.readCommit(change.repository, sha).then((commit) =>
            webhookEventFor(change, json, commit),
          );
    const event = {
      name: change.type,
      action: 'action' in change ? change.action : undefined,
      payload: {},
    };
    for (const hook of hooks) {
      const body = rendered.then((rendering) => {
        if (rendering === null) throw new Error(`github-sim renders no ${change.type} webhook`);
        return bodyOf(hook, rendering);
      });
      this.enqueue(this.jobFor(hook, event, change.repository.id, body), true);
    }
  }

  private async readCommit(repository: Repository, sha: string): Promise<CommitInfo | null> {
    if (this.options.readCommit === undefined) return null;
    return this.options.readCommit(repository, sha);
  }

  private jobFor(
    hook: Hook,
    event: WebhookEvent,
    repositoryId: number | null,
    body: Promise<string>,
    extra: Partial<Job> = {},
  ): Job {
    // A body that cannot be rendered is reported as a failed delivery, not as an unhandled rejection.
    body.catch(() => undefined);
    return {
      guid: randomUUID(),
      hookId: hook.id,
      event: event.name,
      action: event.action ?? null,
      repositoryId,
      body,
      attempt: 1,
      redelivery: false,
      duplicate: false,
      heldUntil: 0,
      ...extra,
    };
  }

  /** Queues a job; `withFaults` applies the duplicate and reorder faults to new deliveries. */
  private enqueue(job: Job, withFaults: boolean): void {
    if (this.stopped) return;
    const queue = this.queues.get(job.hookId) ?? [];
    this.queues.set(job.hookId, queue);
    const jobs = [job];
    if (withFaults) {
      const faults = this.faults;
      const duplicateDraw = this.random(job.hookId, 'enqueue');
      const reorderDraw = this.random(job.hookId, 'enqueue');
      if (reorderDraw < faults.reorderRate) job.heldUntil = Date.now() + this.reorderWindowMs;
      if (duplicateDraw < faults.duplicateRate)
        jobs.push({ ...job, duplicate: true, heldUntil: 0 });
    }
    // New deliveries overtake one held back by the reorder fault, which then goes right after them.
    const held = queue.findIndex((queued) => queued.heldUntil > 0);
    if (held < 0) {
      queue.push(...jobs);
    } else {
      queue[held]!.heldUntil = 0;
      queue.splice(held, 0, ...jobs);
    }
    this.pending += jobs.length;
    this.wakeups.get(job.hookId)?.();
    if (!this.running.has(job.hookId)) void this.drain(job.hookId);
  }

  private async drain(hookId: number): Promise<void> {
    this.running.add(hookId);
    try {
      for (;;) {
        const queue = this.queues.get(hookId);
        const job = queue?.[0];
        if (queue === undefined || job === undefined || this.stopped) break;
        const wait = job.heldUntil - Date.now();
        if (job.heldUntil > 0 && wait > 0) {
          await new Promise<void>((resolve) => {
            const timer = this.timer(resolve, wait);
            this.wakeups.set(hookId, () => {
              clearTimeout(timer);
              this.timers.delete(timer);
              resolve();
            });
          });
          this.wakeups.delete(hookId);
          continue;
        }
        queue.shift();
        await this.attempt(job);
      }
    } finally {
      this.running.delete(hookId);
    }
  }

  private async attempt(job: Job): Promise<void> {
    const hook = this.options.state.getHook(job.hookId);
    let record: DeliveryRecord;
    if (hook === undefined || !hook.active) {
      // GitHub drops deliveries to hooks deleted or deactivated in the meantime.
      job.failed?.(
        new Error(`Hook ${job.hookId} was deleted or deactivated before delivery ${job.guid}`),
      );
      this.finish(job, null);
      return;
    }
    const faults = this.faults;
    const latencyMs =
      this.options.faults?.sampleLatency(faults.latency, `webhooks:${hook.id}:latency`) ?? 0;
    const unreachable = this.random(hook.id, 'attempt') < faults.failureRate;
    let body: string;
    try {
      body = await job.body;
    } catch (error) {
      record = this.record(job, hook, '', {}, Date.now(), {
        statusCode: null,
        status: `payload could not be rendered: ${(error as Error).message}`,
        headers: {},
        payload: null,
      });
      this.finish(job, record);
      return;
    }
    const headers = this.headers(hook, job, body);
    if (latencyMs > 0) await this.sleep(latencyMs);
    if (this.stopped) {
      job.failed?.(new Error(`github-sim stopped before delivering ${job.guid}`));
      return;
    }
    const started = Date.now();
    const outcome: Attempt = unreachable
      ? { statusCode: null, status: 'failed to connect to host', headers: {}, payload: null }
      : await this.send(hook.url, headers, body);
    record = this.record(job, hook, body, headers, started, outcome);
    if (!record.ok && !job.redelivery && job.attempt < this.retry.maxAttempts && !this.stopped) {
      const backoff = Math.min(
        this.retry.maxBackoffMs,
        this.retry.initialBackoffMs * this.retry.factor ** (job.attempt - 1),
      );
      this.pending++;
      this.timer(() => {
        this.pending--;
        this.enqueue({ ...job, attempt: job.attempt + 1, heldUntil: 0 }, false);
      }, backoff);
    }
    this.finish(job, record);
  }

  private record(
    job: Job,
    hook: Hook,
    body: string,
    headers: Record<string, string>,
    started: number,
    outcome: Attempt,
  ): DeliveryRecord {
    const record: DeliveryRecord = {
      id: this.nextDeliveryId++,
      guid: job.guid,
      hookId: hook.id,
      event: job.event,
      action: job.action,
      repositoryId: job.repositoryId,
      attempt: job.attempt,
      redelivery: job.redelivery,
      duplicate: job.duplicate,
      deliveredAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      statusCode: outcome.statusCode,
      status: outcome.status,
      ok: outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300,
      url: hook.url,
      request: { headers, payload: body },
      response: { headers: outcome.headers, payload: outcome.payload },
    };
    this.log.add(record);
    return record;
  }

  private finish(job: Job, record: DeliveryRecord | null): void {
    if (record !== null) job.done?.(record);
    this.pending = Math.max(0, this.pending - 1);
    this.settleIfIdle();
  }

  private settleIfIdle(): void {
    if (this.pending > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve();
      };
      const timer = this.timer(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private timer(callback: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  /** GitHub's delivery headers; signatures only when the hook has a secret. */
  private headers(hook: Hook, job: Job, body: string): Record<string, string> {
    const web = new URL(this.options.json.urls.web);
    const headers: Record<string, string> = {
      Accept: '*/*',
      'Content-Type':
        hook.content_type === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      'User-Agent': USER_AGENT,
      'X-GitHub-Delivery': job.guid,
      'X-GitHub-Event': job.event,
      'X-GitHub-Hook-ID': String(hook.id),
      'X-GitHub-Hook-Installation-Target-ID': String(hook.owner_id),
      'X-GitHub-Hook-Installation-Target-Type': hook.scope,
      'X-GitHub-Enterprise-Host': web.hostname,
      'X-GitHub-Enterprise-Version': this.options.enterpriseVersion ?? '3.19.0',
    };
    if (hook.secret !== null && hook.secret !== '') {
      headers['X-Hub-Signature'] = signatureSha1(hook.secret, body);
      headers['X-Hub-Signature-256'] = signatureSha256(hook.secret, body);
    }
    return headers;
  }

  private send(url: string, headers: Record<string, string>, body: string): Promise<Attempt> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ statusCode: null, status: `invalid URL ${url}`, headers: {}, payload: null });
        return;
      }
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const settle = (attempt: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.timers.delete(deadline);
        this.inFlight.delete(request);
        resolve(attempt);
      };
      const request = send(target, { method: 'POST', headers }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < RESPONSE_CAP) chunks.push(chunk.subarray(0, RESPONSE_CAP - size));
          size += chunk.length;
        });
        response.on('end', () => {
          const statusCode = response.statusCode ?? 0;
          settle({
            statusCode,
            status:
              statusCode >= 200 && statusCode < 300 ? 'OK' : `Invalid HTTP Response: ${statusCode}`,
            headers: flattenHeaders(response.headers),
            payload: Buffer.concat(chunks).toString('utf8'),
          });
        });
        response.on('error', (error) => settle(failure(error)));
      });
      const deadline = this.timer(() => {
        request.destroy();
        settle({ statusCode: null, status: 'timed out', headers: {}, payload: null });
      }, this.timeoutMs);
      this.inFlight.add(request);
      request.on('error', (error) => settle(failure(error)));
      request.end(body);
    });
  }
}

function failure(error: Error & { code?: string }): Attempt {
  const status =
    error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND' || error.code === 'EHOSTUNREACH'
      ? 'failed to connect to host'
      : `connection failed: ${error.code ?? error.message}`;
  return { statusCode: null, status, headers: {}, payload: null };
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** The exact body of a delivery: JSON, or `payload=<JSON>` for hooks configured with the form type. */
function bodyOf(hook: Hook, event: WebhookEvent): string {
  const json = JSON.stringify(event.payload);
  return hook.content_type === 'form' ? `payload=${encodeURIComponent(json)}` : json;
}
