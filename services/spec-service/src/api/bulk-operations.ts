import {
  MAX_PAGE_ROWS,
  type BulkChangesetResult,
  type BulkRequest,
  type BulkResult,
  type BulkResultsPage,
} from '@campaigns/contracts';
import {
  BULK_TARGET_CHUNK,
  bulkStream,
  ConcurrencyError,
  type BulkChangesetProcessed,
  type BulkOperationRequested,
  type EventData,
  type EventsLogger,
  type NewEvent,
  type PostgresEventStore,
} from '@campaigns/events';
import { ApiRequestError, invalidRequest } from '@campaigns/service-kit';
import type { Authored } from '../identity/caller.js';
import type { CampaignStatusQueries } from '../status/campaign-status.js';
import { metadataFor } from '../desired-state/process-manager.js';
import { notFound } from './not-found.js';

type Requested = EventData<typeof BulkOperationRequested>;

/**
 * `campaign.bulk` and `campaign.bulk-results`. A request is recorded in its own stream,
 * `bulk-<operationId>`: BulkOperationRequested naming the operation, the actor and the match,
 * then the changesets the match resolved to (in chunks), all in one append that expects no
 * stream, so the same id twice records once. The reconciler's bulk processor carries it out and
 * appends each changeset's BulkChangesetProcessed to the same stream, which `bulk-results` reads.
 */
export class BulkOperations {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly queries: CampaignStatusQueries,
    private readonly logger?: EventsLogger,
  ) {}

  async request(request: Authored<BulkRequest>): Promise<BulkResult> {
    const stream = bulkStream(request.operationId);
    const earlier = await this.requested(request.operationId);
    if (earlier !== null) return sameRequest(request, earlier);
    const { campaign } = request;
    if ((await this.queries.currentApplyId(campaign)) === null) throw notFound(campaign);
    const targets: NewEvent[] = [];
    let count = 0;
    for (let after: string | null = null; ;) {
      const page = await this.queries.matchingChangesets(
        campaign,
        request.match,
        after,
        BULK_TARGET_CHUNK,
      );
      if (page.length === 0) break;
      count += page.length;
      targets.push({
        type: 'BulkChangesetsTargeted',
        data: { operationId: request.operationId, changesets: page },
      });
      after = page.at(-1)!.changesetId;
    }
    const data: Requested = {
      operationId: request.operationId,
      campaign,
      operation: request.operation,
      ...(request.message === undefined ? {} : { message: request.message }),
      ...(request.method === undefined ? {} : { method: request.method }),
      filter: request.match,
      actor: request.actor,
      changesetCount: count,
    };
    try {
      await this.store.append(stream, [{ type: 'BulkOperationRequested', data }, ...targets], {
        expected: 'no_stream',
        metadata: metadataFor(request.operationId, null, request.actor),
      });
    } catch (err) {
      // The same id sent twice at once: one append wins, the other answers what it recorded.
      if (!(err instanceof ConcurrencyError)) throw err;
      const winner = await this.requested(request.operationId);
      if (winner === null) throw err;
      return sameRequest(request, winner);
    }
    this.logger?.info(
      { campaign, operationId: request.operationId, operation: request.operation, count },
      'bulk operation requested',
    );
    return {
      operationId: request.operationId,
      campaign,
      operation: request.operation,
      changesets: count,
      alreadyRequested: false,
    };
  }

  /** The operation's numbers and a page of its results, in the order they were recorded. */
  async results(
    operationId: string,
    after: string | null,
    limit = MAX_PAGE_ROWS,
  ): Promise<BulkResultsPage> {
    const requested = await this.requested(operationId);
    if (requested === null)
      throw new ApiRequestError({
        code: 'not-found',
        message: `no bulk operation with id ${operationId}`,
      });
    const from = after === null ? 0n : BigInt(after);
    const stream = bulkStream(operationId);
    // Counted by the database, so polling a large operation costs the same at every step.
    const { rows: counts } = await this.store.pool.query<{ result: string; n: number }>(
      `SELECT data->>'result' AS result, count(*)::int AS n FROM eventstore.events
        WHERE stream_id = $1 AND type = 'BulkChangesetProcessed' GROUP BY 1`,
      [stream],
    );
    const { rows } = await this.store.pool.query<{ version: string; data: BulkProcessed }>(
      `SELECT stream_version AS version, data FROM eventstore.events
        WHERE stream_id = $1 AND type = 'BulkChangesetProcessed' AND stream_version > $2
        ORDER BY stream_version LIMIT $3`,
      [stream, from.toString(), limit + 1],
    );
    const page = rows.slice(0, limit);
    const n = (result: string) => counts.find((c) => c.result === result)?.n ?? 0;
    return {
      operationId,
      campaign: requested.campaign,
      operation: requested.operation,
      actor: requested.actor,
      changesets: requested.changesetCount,
      done: n('done'),
      skipped: n('skipped'),
      failed: n('failed'),
      results: page.map(({ data }): BulkChangesetResult => ({
        repository: data.repository,
        headBranch: data.headBranch,
        number: data.number,
        result: data.result,
        message: data.message,
      })),
      next: rows.length > limit ? page.at(-1)!.version : null,
    };
  }

  /** The operation as first recorded; null when the id was never requested. */
  private async requested(operationId: string): Promise<Requested | null> {
    const [first] = await this.store.readStream(bulkStream(operationId), { maxCount: 1 });
    return first?.type === 'BulkOperationRequested' ? (first.data as Requested) : null;
  }
}

type BulkProcessed = EventData<typeof BulkChangesetProcessed>;

/** A repeated id: the first request's answer if it asked the same, else a clear refusal. */
function sameRequest(request: BulkRequest, earlier: Requested): BulkResult {
  if (earlier.campaign !== request.campaign || earlier.operation !== request.operation)
    throw invalidRequest(
      `operation id ${request.operationId} was already used for ${earlier.operation} on campaign "${earlier.campaign}"; use a new id`,
    );
  return {
    operationId: earlier.operationId,
    campaign: earlier.campaign,
    operation: earlier.operation,
    changesets: earlier.changesetCount,
    alreadyRequested: true,
  };
}
