import { randomUUID } from 'node:crypto';
import {
  formatDiagnostic,
  parseCampaignSpec,
  type CampaignSpec,
  type CampaignSpecParseResult,
} from '@campaigns/campaign-spec';
import {
  apiSubject,
  campaignStream,
  ConcurrencyError,
  EventTooLargeError,
  MAX_API_REQUEST_BYTES,
  MAX_PAGE_ROWS,
  MAX_RECORDED_PROBLEMS,
  MAX_REPLY_BYTES,
  newEventId,
  SecretInEventError,
  sha256Hex,
  type ApiError,
  type ApiReply,
  type ApiVerb,
  type ApplyResult,
  type CampaignStatus,
  type ChangesetsPage,
  type EventsLogger,
  type EventsTopology,
  type ExecutionsPage,
  type ListResult,
  type PostgresEventStore,
  type PreviewHead,
  type PreviewPart,
  type Problem,
} from '@campaigns/events';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import { metadataFor } from '../desired-state/process-manager.js';
import type { CampaignStatusQueries, PageKey } from '../status/campaign-status.js';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';
import { chunkRows, decodeCursor, pageOf } from './pages.js';
import { previewRows, type CurrentChangeset } from './preview.js';

/** NATS queue group of the API subscriptions: replicas share the requests. */
export const API_QUEUE_GROUP = 'spec-service';

export interface SpecApiOptions {
  nats: NatsConnection;
  store: PostgresEventStore;
  topology: EventsTopology;
  resolver: WorkspaceResolver;
  queries: CampaignStatusQueries;
  /** The service's schema, where the process manager's and the status projection's tables are. */
  schema: string;
  logger?: EventsLogger;
}

class RequestError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

const invalid = (message: string) => new RequestError({ code: 'invalid-request', message });

const MAX_APPLY_ATTEMPTS = 10;

/** A reply of several messages (see `preview`): each is sent, then the empty end marker. */
class Streamed {
  constructor(readonly messages: readonly object[]) {}
}

type Handler = (body: Record<string, unknown>) => Promise<object | Streamed>;

/**
 * spec-service's request/reply API (libs/events/src/domain/api.ts) on plain NATS subscriptions in
 * the queue group `spec-service`. Every request gets a JSON reply, errors included.
 */
export class SpecApi {
  readonly name = 'spec-api';
  private subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private started = false;
  private stopped = false;

  constructor(private readonly options: SpecApiOptions) {}

  async start(): Promise<void> {
    const handlers: Record<ApiVerb, Handler> = {
      apply: (b) => this.apply(b),
      preview: (b) => this.preview(b),
      get: (b) => this.get(b),
      changesets: (b) => this.changesets(b),
      executions: (b) => this.executions(b),
      list: (b) => this.list(b),
    };
    for (const [verb, handler] of Object.entries(handlers)) {
      const subject = apiSubject(this.options.topology, verb as ApiVerb);
      this.subscriptions.push(
        this.options.nats.subscribe(subject, {
          queue: API_QUEUE_GROUP,
          callback: (err, msg) => {
            if (err) {
              this.options.logger?.error({ subject, err: err.message }, 'subscription failed');
              return;
            }
            const done = this.serve(verb, msg, handler).finally(() => this.inFlight.delete(done));
            this.inFlight.add(done);
          },
        }),
      );
    }
    // The subscriptions are registered on the server once this round trip returns.
    await this.options.nats.flush();
    this.started = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions = [];
    await Promise.allSettled([...this.inFlight]);
  }

  ready(): boolean {
    return this.started && !this.stopped && !this.options.nats.isClosed();
  }

  private async serve(verb: string, msg: Msg, handler: Handler): Promise<void> {
    let replies: ApiReply<object>[];
    try {
      const result = await handler(parseRequest(msg));
      replies = (result instanceof Streamed ? result.messages : [result]).map((m) => ({
        ok: true,
        ...m,
      }));
    } catch (err) {
      if (err instanceof RequestError) {
        replies = [{ ok: false, error: err.error }];
      } else {
        this.options.logger?.error({ verb, err: (err as Error).message }, 'request failed');
        replies = [
          {
            ok: false,
            error: { code: 'internal', message: `spec-service failed: ${(err as Error).message}` },
          },
        ];
      }
    }
    if (!msg.reply) return;
    for (const reply of replies) msg.respond(this.bounded(verb, reply));
    if (STREAMED_VERBS.has(verb)) msg.respond();
  }

  /** The reply as JSON; never over MAX_REPLY_BYTES (pages are cut to fit, so this is a bug). */
  private bounded(verb: string, reply: ApiReply<object>): string {
    const text = JSON.stringify(reply);
    const bytes = Buffer.byteLength(text);
    if (bytes <= MAX_REPLY_BYTES) return text;
    this.options.logger?.error({ verb, bytes }, 'reply over the size limit not sent');
    const error: ApiError = {
      code: 'internal',
      message: `spec-service's reply was ${bytes} bytes, over the limit of ${MAX_REPLY_BYTES}`,
    };
    return JSON.stringify({ ok: false, error });
  }

  // ---- apply ------------------------------------------------------------------------------

  private async apply(body: Record<string, unknown>): Promise<ApplyResult> {
    const fileName = stringField(body, 'fileName');
    const specText = stringField(body, 'specText', true);
    const actor = stringField(body, 'actor');
    const { spec, warnings } = validSpec(fileName, specText);
    const campaign = spec.name;
    const specHash = sha256Hex(specText);
    const stream = campaignStream(campaign);
    const applyId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      const current = await this.currentApplication(campaign);
      if (current.specHash === specHash) {
        return { campaign, applyId: current.applyId!, specHash, unchanged: true, warnings };
      }
      try {
        await this.options.store.append(
          stream,
          [
            {
              event_id: newEventId(),
              type: 'SpecApplied',
              data: { campaign, applyId, specHash, specText, fileName, actor },
            },
          ],
          {
            expected: current.version ?? 'no_stream',
            metadata: metadataFor(applyId, null, actor),
          },
        );
        this.options.logger?.info({ campaign, applyId, actor }, 'spec applied');
        return { campaign, applyId, specHash, unchanged: false, warnings };
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < MAX_APPLY_ATTEMPTS) continue;
        if (err instanceof EventTooLargeError)
          throw invalid(
            `the spec is too large to record: ${err.bytes} bytes as an event, over the event store's limit of ${err.limit}`,
          );
        if (err instanceof SecretInEventError)
          throw invalid(
            'the spec contains the value of a configured secret (a code host token or webhook secret); it is not recorded — reference secrets by name instead',
          );
        throw err;
      }
    }
  }

  /** The campaign stream's version and its latest SpecApplied, straight from the event store. */
  private async currentApplication(
    campaign: string,
  ): Promise<{ version: bigint | null; specHash: string | null; applyId: string | null }> {
    const stream = campaignStream(campaign);
    const version = await this.options.store.streamVersion(stream);
    if (version === null) return { version, specHash: null, applyId: null };
    const { rows } = await this.pool.query<{ spec_hash: string; apply_id: string }>(
      `SELECT data->>'specHash' AS spec_hash, data->>'applyId' AS apply_id FROM eventstore.events
        WHERE stream_id = $1 AND type = 'SpecApplied' AND stream_version <= $2
        ORDER BY stream_version DESC LIMIT 1`,
      [stream, version.toString()],
    );
    return { version, specHash: rows[0]?.spec_hash ?? null, applyId: rows[0]?.apply_id ?? null };
  }

  private get pool(): Pool {
    return this.options.store.pool;
  }

  // ---- preview ----------------------------------------------------------------------------

  /**
   * Replies with several messages to the request's inbox: the head, the rows in chunks, then an
   * empty message (what nats.js's `requestMany` with the `sentinel` strategy stops at). Streamed
   * rather than paged by cursor because a preview is computed whole (resolving `on:` against
   * the repository index, comparing with the current state) and never stored: a cursor would
   * have to resolve again for every page, or keep state in one replica of the queue group.
   */
  private async preview(body: Record<string, unknown>): Promise<Streamed> {
    const fileName = stringField(body, 'fileName');
    const specText = stringField(body, 'specText', true);
    const { spec, warnings } = validSpec(fileName, specText);
    let resolved;
    try {
      resolved = await this.options.resolver.resolve(spec);
    } catch (err) {
      throw new RequestError({
        code: 'unavailable',
        message: `resolving the spec's repositories failed: ${(err as Error).message}`,
      });
    }
    const { schema } = this.options;
    const currentSpec = await this.pool.query<{ spec_text: string; file_name: string }>(
      `SELECT a.spec_text, a.file_name FROM ${schema}.pm_campaigns c
         JOIN ${schema}.pm_applies a ON a.apply_id = c.apply_id WHERE c.campaign = $1`,
      [spec.name],
    );
    const previous = currentSpec.rows[0]
      ? parseCampaignSpec(currentSpec.rows[0].spec_text, currentSpec.rows[0].file_name).spec
      : undefined;
    const changesets = await this.pool.query<CurrentChangeset>(
      `SELECT repository, head_branch AS "headBranch", wanted, host_state AS "hostState"
         FROM ${schema}.status_changesets WHERE campaign = $1 ORDER BY repository, head_branch`,
      [spec.name],
    );
    const rows = previewRows(spec, resolved.workspaces, {
      spec: previous ?? null,
      changesets: changesets.rows,
    });
    const problems: Problem[] = resolved.problems
      .slice(0, MAX_RECORDED_PROBLEMS)
      .map((p) => ({ entry: p.entry, message: p.message }));
    if (resolved.problems.length > MAX_RECORDED_PROBLEMS)
      problems.push({
        entry: 'on',
        message: `${resolved.problems.length - MAX_RECORDED_PROBLEMS} more problems are not shown`,
      });
    const head: PreviewHead = { campaign: spec.name, rowCount: rows.length, problems, warnings };
    const parts: PreviewPart[] = [{ head }, ...chunkRows(rows).map((chunk) => ({ rows: chunk }))];
    return new Streamed(parts);
  }

  // ---- queries ----------------------------------------------------------------------------

  /** The campaign's summary: counts, phase and problems, whatever its size. */
  private async get(body: Record<string, unknown>): Promise<CampaignStatus> {
    const campaign = stringField(body, 'campaign');
    const status = await this.options.queries.summary(campaign);
    if (!status) throw notFound(campaign);
    return status;
  }

  private async changesets(body: Record<string, unknown>): Promise<ChangesetsPage> {
    const campaign = stringField(body, 'campaign');
    const { after, limit } = pageRequest(body, 2);
    const filter = oneOf(body, 'filter', ['all', 'errored'] as const);
    const { queries } = this.options;
    if ((await queries.currentApplyId(campaign)) === null) throw notFound(campaign);
    const rows = await queries.changesets(campaign, after as PageKey | null, limit + 1, filter);
    const page = pageOf(rows, limit, (c) => [c.repository, c.headBranch]);
    return { changesets: page.rows, next: page.next };
  }

  private async executions(body: Record<string, unknown>): Promise<ExecutionsPage> {
    const campaign = stringField(body, 'campaign');
    const { after, limit } = pageRequest(body, 2);
    const filter = oneOf(body, 'filter', ['all', 'failed'] as const);
    const { queries } = this.options;
    const current = await queries.currentApplyId(campaign);
    if (current === null) throw notFound(campaign);
    const applyId = body['applyId'] === undefined ? current : stringField(body, 'applyId');
    if (!UUID.test(applyId)) throw invalid('"applyId" must be a UUID');
    const rows = await queries.executions(
      campaign,
      applyId,
      after as PageKey | null,
      limit + 1,
      filter,
    );
    const page = pageOf(rows, limit, (e) => [e.repository, e.path]);
    return { applyId, executions: page.rows, next: page.next };
  }

  private async list(body: Record<string, unknown>): Promise<ListResult> {
    const { after, limit } = pageRequest(body, 1);
    const rows = await this.options.queries.list(after?.[0] ?? null, limit + 1);
    const page = pageOf(rows, limit, (c) => [c.campaign]);
    return { campaigns: page.rows, next: page.next };
  }
}

const STREAMED_VERBS: ReadonlySet<string> = new Set<ApiVerb>(['preview']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const notFound = (campaign: string) =>
  new RequestError({ code: 'not-found', message: `no campaign named "${campaign}"` });

/** `after` (a cursor of `keyLength` strings) and `limit` of a paged request. */
function pageRequest(
  body: Record<string, unknown>,
  keyLength: number,
): { after: string[] | null; limit: number } {
  const { after = null, limit = MAX_PAGE_ROWS } = body;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_PAGE_ROWS)
    throw invalid(`"limit" must be a whole number from 1 to ${MAX_PAGE_ROWS}`);
  if (after === null) return { after: null, limit: limit as number };
  const key = typeof after === 'string' ? decodeCursor(after, keyLength) : null;
  if (key === null) throw invalid('"after" must be the "next" of a previous page');
  return { after: key, limit: limit as number };
}

/** An optional field that must be one of `values`; the first is the default. */
function oneOf<const T extends readonly string[]>(
  body: Record<string, unknown>,
  field: string,
  values: T,
): T[number] {
  const value = body[field] ?? values[0];
  if (typeof value !== 'string' || !values.includes(value))
    throw invalid(`"${field}" must be one of ${values.map((v) => `"${v}"`).join(', ')}`);
  return value;
}

function parseRequest(msg: Msg): Record<string, unknown> {
  if (msg.data.length > MAX_API_REQUEST_BYTES)
    throw invalid(`the request is over ${MAX_API_REQUEST_BYTES} bytes`);
  let body: unknown;
  try {
    body = msg.data.length === 0 ? {} : JSON.parse(msg.string());
  } catch {
    throw invalid('the request is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalid('the request must be a JSON object');
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, field: string, allowEmpty = false): string {
  const value = body[field];
  if (typeof value !== 'string' || (!allowEmpty && value.trim() === ''))
    throw invalid(`"${field}" must be a${allowEmpty ? '' : ' non-empty'} string`);
  if (!allowEmpty && value.length > 1000) throw invalid(`"${field}" is too long`);
  return value;
}

function validSpec(fileName: string, specText: string): { spec: CampaignSpec; warnings: string[] } {
  const parsed: CampaignSpecParseResult = parseCampaignSpec(specText, fileName);
  const warnings = parsed.warnings.map((w) => formatDiagnostic(fileName, w));
  if (!parsed.spec || parsed.errors.length > 0) {
    const diagnostics = parsed.errors.map((d) => formatDiagnostic(fileName, d));
    throw new RequestError({
      code: 'invalid-spec',
      message: `${fileName}: the spec has ${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}`,
      diagnostics: [...diagnostics, ...warnings],
    });
  }
  return { spec: parsed.spec, warnings };
}
