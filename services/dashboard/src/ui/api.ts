// The dashboard service's JSON API, as the pages read it. Types come from libs/contracts (types
// only: nothing of it is bundled).
import type {
  BulkOperationKind,
  BulkResult,
  BulkResultsPage,
  CampaignStatus,
  ChangesetsPage,
  ChangesetState,
  ChangesetStatus,
  ListResult,
} from '@campaigns/contracts';
import type { AppliedSpec, ChangesetHistory } from '../api/campaign-history.js';

export type {
  AppliedSpec,
  BulkOperationKind,
  BulkResultsPage,
  CampaignStatus,
  ChangesetState,
  ChangesetStatus,
  ListResult,
};

/** What the API answered instead (its one-line message). */
export class ApiError extends Error {}

/** Sent on window when the API answers 401: the token is gone, revoked or was never there. */
export const SIGNED_OUT_EVENT = 'campaigns:signed-out';

/** Who is signed in: spec-service's whoami. */
export interface Me {
  user: string;
  siteAdmin: boolean;
  namespaces: string[];
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => null)) as { message?: unknown } | null;
  if (response.status === 401 && !path.startsWith('/api/session'))
    (globalThis as unknown as EventTarget).dispatchEvent(new Event(SIGNED_OUT_EVENT));
  if (!response.ok)
    throw new ApiError(
      typeof body?.message === 'string'
        ? body.message
        : `${response.status} ${response.statusText}`,
    );
  return body as T;
}

const campaignPath = (campaign: string) => `/api/campaigns/${encodeURIComponent(campaign)}`;

export interface Filters {
  state?: string;
  checks?: string;
  review?: string;
  repository?: string;
  errored?: boolean;
}

export const filtersQuery = (f: Filters) => {
  const q = new URLSearchParams();
  for (const key of ['state', 'checks', 'review', 'repository'] as const) {
    const value = f[key];
    if (value) q.set(key, value);
  }
  if (f.errored) q.set('errored', '1');
  return q;
};

export interface BurndownData {
  campaign: string;
  points: { at: string; counts: Record<ChangesetState, number> & { total: number } }[];
}

/** The changeset page's answer: its row, and what the event store says of it. */
export interface ChangesetDetail extends ChangesetHistory {
  campaign: string;
  changeset: ChangesetStatus;
}

export interface BulkActionRequest {
  operation: BulkOperationKind;
  message?: string;
  match: Omit<Filters, 'errored'>;
  repositories: string[];
}

export const api = {
  me: () => call<Me>('/api/session'),
  signIn: (token: string) =>
    call<Me>('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    }),
  signOut: () => call<void>('/api/session', { method: 'DELETE' }),
  settings: () => call<{ bulkActions: boolean }>('/api/settings'),
  campaigns: (namespace: string, after: string | null) =>
    call<ListResult>(
      `/api/campaigns?${new URLSearchParams({ namespace, ...(after ? { after } : {}), limit: '50' })}`,
    ),
  campaign: (campaign: string) => call<CampaignStatus>(campaignPath(campaign)),
  changesets: (campaign: string, filters: Filters, after: string | null) => {
    const q = filtersQuery(filters);
    if (after) q.set('after', after);
    return call<ChangesetsPage>(`${campaignPath(campaign)}/changesets?${q}`);
  },
  burndown: (campaign: string) => call<BurndownData>(`${campaignPath(campaign)}/burndown`),
  specs: (campaign: string) =>
    call<{ specs: AppliedSpec[] }>(`${campaignPath(campaign)}/specs`).then((r) => r.specs),
  changeset: (campaign: string, repository: string, branch: string) =>
    call<ChangesetDetail>(
      `${campaignPath(campaign)}/changeset?${new URLSearchParams({ repository, branch })}`,
    ),
  bulk: (campaign: string, request: BulkActionRequest) =>
    call<{ operations: BulkResult[] }>(`${campaignPath(campaign)}/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    }).then((r) => r.operations),
  bulkResults: (operationId: string) =>
    call<BulkResultsPage>(`/api/bulk/${encodeURIComponent(operationId)}?limit=100`),
};
