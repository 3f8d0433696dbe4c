// What the dashboard's API accepts from a browser, checked before anything is asked of
// spec-service or the event store: every problem is one line a user can act on (answered 400).
import { CAMPAIGN_NAME_PATTERN } from '@campaigns/campaign-spec';
import { NAMESPACE_PATTERN } from '@campaigns/events';
import {
  BULK_OPERATION_KINDS,
  CHANGESET_STATES,
  CHECKS_MATCHES,
  MAX_NAME_LENGTH,
  MERGE_METHODS,
  REVIEW_MATCHES,
  type BulkOperationKind,
  type ChangesetMatch,
} from '@campaigns/contracts';

/** Bad input from the browser: answered 400 with this message. */
export class InvalidInput extends Error {}

/** The most changesets one dashboard page lists (the table pages on with `after`). */
export const MAX_DASHBOARD_PAGE = 100;
/** The most repositories one bulk action names (one bulk operation each). */
export const MAX_BULK_REPOSITORIES = 100;

type Query = Readonly<Record<string, unknown>>;

function text(query: Query, field: string): string | undefined {
  const value = query[field];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidInput(`"${field}" must be given once, as text`);
  if (value.length > MAX_NAME_LENGTH) throw new InvalidInput(`"${field}" is too long`);
  return value;
}

function oneOf<T extends string>(query: Query, field: string, values: readonly T[]): T | undefined {
  const value = text(query, field);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value))
    throw new InvalidInput(`"${field}" must be one of ${values.join(', ')}; got "${value}"`);
  return value as T;
}

export function campaignName(value: unknown): string {
  const slash = typeof value === 'string' ? value.indexOf('/') : -1;
  const namespace = slash < 0 ? null : (value as string).slice(0, slash);
  const name = slash < 0 ? value : (value as string).slice(slash + 1);
  if (namespace !== null && !NAMESPACE_PATTERN.test(namespace))
    throw new InvalidInput(
      'the namespace must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  if (typeof name !== 'string' || name.length > 255 || !CAMPAIGN_NAME_PATTERN.test(name))
    throw new InvalidInput(
      'the campaign name must be letters, digits, "_", "." or "-" (at most 255)',
    );
  return value as string;
}

/** `namespace` of the campaigns list: absent means the caller's own. */
export function namespaceParam(query: Query): string | undefined {
  const value = text(query, 'namespace');
  if (value !== undefined && !NAMESPACE_PATTERN.test(value))
    throw new InvalidInput(
      '"namespace" must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  return value;
}

export interface PageParams {
  after: string | null;
  limit: number;
}

/** `after` (the `next` of a previous page) and `limit` (1 to MAX_DASHBOARD_PAGE, default 50). */
export function pageParams(query: Query): PageParams {
  const raw = text(query, 'limit');
  const limit = raw === undefined ? 50 : Number(raw);
  if (!/^\d+$/.test(raw ?? '50') || limit < 1 || limit > MAX_DASHBOARD_PAGE)
    throw new InvalidInput(`"limit" must be a whole number from 1 to ${MAX_DASHBOARD_PAGE}`);
  return { after: text(query, 'after') ?? null, limit };
}

/** The table's filters: state, checks, review, and a repository glob. */
export function changesetMatch(query: Query): ChangesetMatch {
  const state = oneOf(query, 'state', CHANGESET_STATES);
  const checks = oneOf(query, 'checks', CHECKS_MATCHES);
  const review = oneOf(query, 'review', REVIEW_MATCHES);
  const repository = text(query, 'repository');
  return {
    ...(state ? { state } : {}),
    ...(checks ? { checks } : {}),
    ...(review ? { review } : {}),
    ...(repository ? { repository } : {}),
  };
}

/** `errored=1`: only the changesets whose last reconcile failed. */
export function erroredOnly(query: Query): boolean {
  return oneOf(query, 'errored', ['0', '1']) === '1';
}

export interface ChangesetKey {
  repository: string;
  headBranch: string;
}

/** One changeset: `repository` (host/owner/name) and `branch` (its head branch). */
export function changesetKey(query: Query): ChangesetKey {
  const repository = text(query, 'repository');
  const headBranch = text(query, 'branch');
  if (repository === undefined || headBranch === undefined)
    throw new InvalidInput('a changeset is named by "repository" and "branch"');
  if (repository.split('/').length < 3 || repository.split('/').some((p) => p === ''))
    throw new InvalidInput(`"repository" must be HOST/OWNER/NAME; got "${repository}"`);
  return { repository, headBranch };
}

export interface BulkAction {
  operation: BulkOperationKind;
  message?: string;
  method?: (typeof MERGE_METHODS)[number];
  /** The table's filters when the action was chosen; each repository narrows them. */
  match: ChangesetMatch;
  /** The selected rows' repositories; empty: every changeset the filters match. */
  repositories: string[];
}

/** A bulk action from the table: one operation on the selected (or all filtered) changesets. */
export function bulkAction(body: unknown): BulkAction {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidInput('the bulk action must be a JSON object');
  const b = body as Query;
  const operation = oneOf(b, 'operation', BULK_OPERATION_KINDS);
  if (operation === undefined) throw new InvalidInput('"operation" is required');
  const message = typeof b['message'] === 'string' ? b['message'] : undefined;
  if (b['message'] !== undefined && message === undefined)
    throw new InvalidInput('"message" must be text');
  if (operation === 'comment' && (message === undefined || message.trim() === ''))
    throw new InvalidInput('a comment needs a message');
  if (operation !== 'comment' && message !== undefined)
    throw new InvalidInput('"message" is only for comment');
  const method = oneOf(b, 'method', MERGE_METHODS);
  if (operation !== 'merge' && method !== undefined)
    throw new InvalidInput('"method" is only for merge');
  const match = changesetMatch((b['match'] ?? {}) as Query);
  const listed = b['repositories'] ?? [];
  if (!Array.isArray(listed) || listed.some((r) => typeof r !== 'string' || r === ''))
    throw new InvalidInput('"repositories" must be a list of repository names');
  const repositories = [...new Set(listed as string[])];
  if (repositories.length > MAX_BULK_REPOSITORIES)
    throw new InvalidInput(`select at most ${MAX_BULK_REPOSITORIES} repositories at once`);
  // A selected repository is matched exactly: glob characters would widen the selection.
  const glob = repositories.find((r) => /[*?[\]]/.test(r) || r.length > MAX_NAME_LENGTH);
  if (glob !== undefined) throw new InvalidInput(`"${glob}" is not a repository name`);
  return {
    operation,
    ...(message === undefined ? {} : { message }),
    ...(method === undefined ? {} : { method }),
    match,
    repositories,
  };
}
