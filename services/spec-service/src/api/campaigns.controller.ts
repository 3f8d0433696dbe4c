import {
  applyRequestSchema,
  bulkRequestSchema,
  bulkResultsRequestSchema,
  changesetsRequestSchema,
  closeRequestSchema,
  deleteRequestSchema,
  executionsRequestSchema,
  getRequestSchema,
  listRequestSchema,
  MAX_PAGE_ROWS,
  previewRequestSchema,
  type ApplyRequest,
  type ApplyResult,
  type BulkRequest,
  type BulkResult,
  type BulkResultsPage,
  type BulkResultsRequest,
  type CampaignStatus,
  type ChangesetsPage,
  type ChangesetsRequest,
  type CloseRequest,
  type CloseResult,
  type DeleteRequest,
  type DeleteResult,
  type ExecutionsPage,
  type ExecutionsRequest,
  type GetRequest,
  type ListRequest,
  type ListResult,
  type PreviewPart,
  type PreviewRequest,
} from '@campaigns/contracts';
import { ApiExceptionFilter, invalidRequest, ZodPayloadPipe } from '@campaigns/service-kit';
import { Controller, Inject, UseFilters, UseGuards } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { from, type Observable } from 'rxjs';
import {
  CampaignStatusQueries,
  type ExecutionPageKey,
  type PageKey,
} from '../status/campaign-status.js';
import { AuthenticationGuard } from '../identity/authentication.guard.js';
import { CallerOf } from '../identity/caller.js';
import type { Caller } from '../identity/identity-store.js';
import { NamespaceAccess } from '../identity/namespace-access.js';
import { campaignRefOf } from '@campaigns/events';
import { BulkOperations } from './bulk-operations.js';
import { decodeCursor, pageOf } from './pages.js';
import { CampaignCloser } from './campaign-closer.js';
import { notFound } from './not-found.js';
import { SpecApplier } from './spec-applier.js';
import { SpecPreviewer } from './spec-previewer.js';

/**
 * spec-service's request/reply API (libs/contracts): one `@MessagePattern` per verb, each
 * request validated by its contract before the handler sees it. Served over NATS by the
 * service kit's NatsRequestServer in the queue group `spec-service`. Every request is
 * authenticated first (AuthenticationGuard); the actor recorded is the caller's user name.
 */
@Controller()
@UseFilters(ApiExceptionFilter)
@UseGuards(AuthenticationGuard)
export class CampaignsController {
  constructor(
    @Inject(SpecApplier) private readonly applier: SpecApplier,
    @Inject(CampaignCloser) private readonly closer: CampaignCloser,
    @Inject(SpecPreviewer) private readonly previewer: SpecPreviewer,
    @Inject(CampaignStatusQueries) private readonly queries: CampaignStatusQueries,
    @Inject(BulkOperations) private readonly bulkOperations: BulkOperations,
    @Inject(NamespaceAccess) private readonly access: NamespaceAccess,
  ) {}

  /** Records a bulk operation over the changesets that match; the reconciler carries it out. */
  @MessagePattern('campaign.bulk')
  async bulk(
    @Payload(new ZodPayloadPipe(bulkRequestSchema)) { namespace, ...request }: BulkRequest,
    @CallerOf() caller: Caller,
  ): Promise<BulkResult> {
    const { key } = await this.access.campaign(caller, 'bulk', {
      namespace,
      campaign: request.campaign,
    });
    return this.bulkOperations.request({ ...request, campaign: key, actor: caller.user });
  }

  /** A bulk operation's numbers and a page of its per-changeset results. */
  @MessagePattern('campaign.bulk-results')
  async bulkResults(
    @Payload(new ZodPayloadPipe(bulkResultsRequestSchema)) request: BulkResultsRequest,
    @CallerOf() caller: Caller,
  ): Promise<BulkResultsPage> {
    const after = request.after ?? null;
    // The cursor is the stream version of the last result of the previous page.
    if (after !== null && !/^[0-9]{1,18}$/.test(after))
      throw invalidRequest('"after" must be the "next" of a previous page');
    const page = await this.bulkOperations.results(request.operationId, after, request.limit);
    const { namespace, name } = campaignRefOf(page.campaign);
    await this.access.namespace(caller, 'read', namespace, name);
    return page;
  }

  @MessagePattern('campaign.close')
  async close(
    @Payload(new ZodPayloadPipe(closeRequestSchema)) { namespace, ...request }: CloseRequest,
    @CallerOf() caller: Caller,
  ): Promise<CloseResult> {
    const { key } = await this.access.campaign(caller, 'close', {
      namespace,
      campaign: request.campaign,
    });
    return this.closer.close({ ...request, campaign: key, actor: caller.user });
  }

  @MessagePattern('campaign.delete')
  async delete(
    @Payload(new ZodPayloadPipe(deleteRequestSchema)) { namespace, ...request }: DeleteRequest,
    @CallerOf() caller: Caller,
  ): Promise<DeleteResult> {
    const { key } = await this.access.campaign(caller, 'delete', {
      namespace,
      campaign: request.campaign,
    });
    return this.closer.delete({ ...request, campaign: key, actor: caller.user });
  }

  @MessagePattern('campaign.apply')
  apply(
    @Payload(new ZodPayloadPipe(applyRequestSchema)) { namespace, ...request }: ApplyRequest,
    @CallerOf() caller: Caller,
  ): Promise<ApplyResult> {
    return this.applier.apply({ ...request, actor: caller.user }, async (campaign) => {
      return (await this.access.campaign(caller, 'apply', { namespace, campaign })).key;
    });
  }

  /** Several messages: the head, then the rows in chunks (see PreviewPart). */
  @MessagePattern('campaign.preview', { streamed: true })
  async preview(
    @Payload(new ZodPayloadPipe(previewRequestSchema)) { namespace, ...request }: PreviewRequest,
    @CallerOf() caller: Caller,
  ): Promise<Observable<PreviewPart>> {
    return from(
      await this.previewer.preview(request, async (campaign) => {
        return (await this.access.campaign(caller, 'preview', { namespace, campaign })).key;
      }),
    );
  }

  /** The campaign's summary: counts, phase and problems, whatever its size. */
  @MessagePattern('campaign.get')
  async get(
    @Payload(new ZodPayloadPipe(getRequestSchema)) request: GetRequest,
    @CallerOf() caller: Caller,
  ): Promise<CampaignStatus> {
    const { key: campaign } = await this.access.campaign(caller, 'read', request);
    const status = await this.queries.summary(campaign);
    if (!status) throw notFound(campaign);
    return status;
  }

  @MessagePattern('campaign.changesets')
  async changesets(
    @Payload(new ZodPayloadPipe(changesetsRequestSchema)) request: ChangesetsRequest,
    @CallerOf() caller: Caller,
  ): Promise<ChangesetsPage> {
    const { key: campaign } = await this.access.campaign(caller, 'read', request);
    const { filter = 'all', match = {}, diffstat = false } = request;
    const { after, limit } = page(request, 2);
    if ((await this.queries.currentApplyId(campaign)) === null) throw notFound(campaign);
    const rows = await this.queries.changesets(
      campaign,
      after as PageKey | null,
      limit + 1,
      filter,
      match,
      diffstat,
    );
    const found = pageOf(rows, limit, (c) => [c.repository, c.headBranch]);
    return { changesets: found.rows, next: found.next };
  }

  @MessagePattern('campaign.executions')
  async executions(
    @Payload(new ZodPayloadPipe(executionsRequestSchema)) request: ExecutionsRequest,
    @CallerOf() caller: Caller,
  ): Promise<ExecutionsPage> {
    const { key: campaign } = await this.access.campaign(caller, 'read', request);
    const { filter = 'all' } = request;
    const { after, limit } = page(request, 3);
    const current = await this.queries.currentApplyId(campaign);
    if (current === null) throw notFound(campaign);
    const applyId = request.applyId ?? current;
    const rows = await this.queries.executions(
      campaign,
      applyId,
      after as ExecutionPageKey | null,
      limit + 1,
      filter,
    );
    const found = pageOf(rows, limit, (e) => [e.repository, e.path, e.branch ?? '']);
    return { applyId, executions: found.rows, next: found.next };
  }

  /** The campaigns of one namespace (the caller's own unless it names another), by name. */
  @MessagePattern('campaign.list')
  async list(
    @Payload(new ZodPayloadPipe(listRequestSchema)) request: ListRequest,
    @CallerOf() caller: Caller,
  ): Promise<ListResult> {
    if (request.allNamespaces === true && request.namespace !== undefined)
      throw invalidRequest('"allNamespaces" lists every namespace; ask for it or a "namespace"');
    const namespaces =
      request.allNamespaces === true
        ? await this.access.readable(caller)
        : [await this.access.namespace(caller, 'read', request.namespace)];
    const { after, limit } = page(request, 1);
    const rows = await this.queries.list(after?.[0] ?? null, limit + 1, namespaces);
    const found = pageOf(rows, limit, (c) => [c.campaign]);
    return { campaigns: found.rows, next: found.next };
  }
}

/** The key a paged request's cursor holds (`keyLength` strings), and its row limit. */
function page(
  request: { after?: string | null | undefined; limit?: number | undefined },
  keyLength: number,
): { after: string[] | null; limit: number } {
  const limit = request.limit ?? MAX_PAGE_ROWS;
  if (request.after === undefined || request.after === null) return { after: null, limit };
  const key = decodeCursor(request.after, keyLength);
  if (key === null) throw invalidRequest('"after" must be the "next" of a previous page');
  return { after: key, limit };
}
