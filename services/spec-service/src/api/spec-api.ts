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
  newEventId,
  SecretInEventError,
  sha256Hex,
  type ApiError,
  type ApiReply,
  type ApiVerb,
  type ApplyResult,
  type CampaignStatus,
  type EventsLogger,
  type EventsTopology,
  type ListResult,
  type PostgresEventStore,
  type PreviewResult,
} from '@campaigns/events';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import { metadataFor } from '../desired-state/process-manager.js';
import type { CampaignStatusQueries } from '../status/campaign-status.js';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';
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
    const handlers: Record<ApiVerb, (body: Record<string, unknown>) => Promise<object>> = {
      apply: (b) => this.apply(b),
      preview: (b) => this.preview(b),
      get: (b) => this.get(b),
      list: () => this.list(),
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

  private async serve(
    verb: string,
    msg: Msg,
    handler: (body: Record<string, unknown>) => Promise<object>,
  ): Promise<void> {
    let reply: ApiReply<object>;
    try {
      reply = { ok: true, ...(await handler(parseRequest(msg))) };
    } catch (err) {
      if (err instanceof RequestError) {
        reply = { ok: false, error: err.error };
      } else {
        this.options.logger?.error({ verb, err: (err as Error).message }, 'request failed');
        reply = {
          ok: false,
          error: { code: 'internal', message: `spec-service failed: ${(err as Error).message}` },
        };
      }
    }
    if (msg.reply) msg.respond(JSON.stringify(reply));
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

  private async preview(body: Record<string, unknown>): Promise<PreviewResult> {
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
    return {
      campaign: spec.name,
      rows: previewRows(spec, resolved.workspaces, {
        spec: previous ?? null,
        changesets: changesets.rows,
      }),
      problems: resolved.problems.map((p) => ({ entry: p.entry, message: p.message })),
      warnings,
    };
  }

  // ---- queries ----------------------------------------------------------------------------

  /** Replies `{ ok: true, ...CampaignStatus }`. */
  private async get(body: Record<string, unknown>): Promise<CampaignStatus> {
    const campaign = stringField(body, 'campaign');
    const status = await this.options.queries.get(campaign);
    if (!status)
      throw new RequestError({ code: 'not-found', message: `no campaign named "${campaign}"` });
    return status;
  }

  private async list(): Promise<ListResult> {
    return { campaigns: await this.options.queries.list() };
  }
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
