import type {
  ApiError,
  ApiReply,
  ApiVerb,
  CampaignStatus,
  ChangesetsPage,
  ChangesetsRequest,
  ExecutionFilter,
  ExecutionsPage,
  ExecutionsRequest,
  FullCampaignStatus,
  ListRequest,
  ListResult,
  Page,
} from '@campaigns/contracts';
import type { SpecServiceClient } from './spec-service-client.js';

/** spec-service answered a page with an error (e.g. the campaign is gone). */
export class PageError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

/** Every row of a paged verb: page after page until one has no `next`. */
export async function allPages<P extends Page, R>(
  client: SpecServiceClient,
  verb: ApiVerb,
  request: object,
  rowsOf: (page: P) => R[],
): Promise<R[]> {
  const rows: R[] = [];
  let after: string | null = null;
  do {
    const reply: ApiReply<P> = await client.request<P>(verb, { ...request, after });
    if (!reply.ok) throw new PageError(reply.error);
    rows.push(...rowsOf(reply));
    after = reply.next;
  } while (after !== null);
  return rows;
}

/**
 * A summary with its changesets and executions, read page by page: all executions, or only the
 * failed ones (all the table shows), and the changesets' diffstats with their lines counted only
 * when `details` asks (wide and JSON show them; counting reads every diff). The executions are the
 * summary's application's throughout.
 */
export async function fullStatus(
  client: SpecServiceClient,
  summary: CampaignStatus,
  executions: ExecutionFilter,
  details = false,
): Promise<FullCampaignStatus> {
  const changesetsRequest: ChangesetsRequest = {
    campaign: summary.campaign,
    ...(details ? { diffstat: true } : {}),
  };
  const executionsRequest: ExecutionsRequest = {
    campaign: summary.campaign,
    applyId: summary.applyId,
    filter: executions,
  };
  return {
    ...summary,
    executions: await allPages(
      client,
      'executions',
      executionsRequest,
      (p: ExecutionsPage) => p.executions,
    ),
    changesets: await allPages(
      client,
      'changesets',
      changesetsRequest,
      (p: ChangesetsPage) => p.changesets,
    ),
  };
}

/** Every campaign, read page by page. */
export async function allCampaigns(
  client: SpecServiceClient,
  request: ListRequest = {},
): Promise<ListResult['campaigns']> {
  return allPages(client, 'list', request, (p: ListResult) => p.campaigns);
}
