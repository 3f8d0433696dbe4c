// `repositories(…)` of an organization or a user (RepositoryOwner), as GitHub answers it: the
// filters of GitHub's arguments, `orderBy`, and keyset cursors. A cursor names the sort value and
// id of its repository, not a position, so a listing stays consistent while repositories are
// pushed to (one pushed after the listing started moves ahead of the cursor and is not repeated).
import type { Account, Repository } from '../state/model.js';
import type { Connection } from './connections.js';
import { GithubError } from './errors.js';

export type RepositoryOrderField =
  'CREATED_AT' | 'NAME' | 'PUSHED_AT' | 'STARGAZERS' | 'UPDATED_AT';

/** The arguments of `RepositoryOwner.repositories`, as graphql-js passes them. */
export interface RepositoriesArgs {
  privacy?: 'PUBLIC' | 'PRIVATE' | null;
  visibility?: 'PUBLIC' | 'PRIVATE' | 'INTERNAL' | null;
  orderBy?: { field: RepositoryOrderField; direction: 'ASC' | 'DESC' } | null;
  affiliations?: readonly (Affiliation | null)[] | null;
  ownerAffiliations?: readonly (Affiliation | null)[] | null;
  isLocked?: boolean | null;
  hasIssuesEnabled?: boolean | null;
  isArchived?: boolean | null;
  isFork?: boolean | null;
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

type Affiliation = 'OWNER' | 'COLLABORATOR' | 'ORGANIZATION_MEMBER';

/** What the listing needs to know about accounts and access. */
export interface RepositoryDirectory {
  repositories: readonly Repository[];
  canRead(repository: Repository, login: string): boolean;
  /** Whether `login` is a member of the organization `org` (false for a user). */
  isMember(org: string, login: string): boolean;
}

type SortKey = [value: string | number, id: number];

const PREFIX = 'cursor:v2:';

export function encodeRepositoryCursor(key: SortKey): string {
  return Buffer.from(`${PREFIX}${JSON.stringify(key)}`).toString('base64');
}

function decodeRepositoryCursor(cursor: string, argument: 'after' | 'before'): SortKey {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  try {
    if (text.startsWith(PREFIX)) {
      const key = JSON.parse(text.slice(PREFIX.length)) as unknown;
      if (
        Array.isArray(key) &&
        key.length === 2 &&
        (typeof key[0] === 'string' || typeof key[0] === 'number') &&
        Number.isInteger(key[1])
      ) {
        return key as SortKey;
      }
    }
  } catch {
    // Falls through to GitHub's answer for a cursor it did not issue.
  }
  throw new GithubError(
    'INVALID_CURSOR_ARGUMENTS',
    `\`${argument}\` does not appear to be a valid cursor.`,
  );
}

function sortValue(repository: Repository, field: RepositoryOrderField): string | number {
  switch (field) {
    case 'CREATED_AT':
      return repository.created_at;
    case 'NAME':
      return repository.name.toLowerCase();
    case 'PUSHED_AT':
      return repository.pushed_at;
    case 'UPDATED_AT':
      return repository.updated_at;
    case 'STARGAZERS':
      // Nobody stars a simulated repository.
      return 0;
  }
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] - b[1];
}

/** Owner affiliation: how the listed account relates to a repository it lists. */
function ownedAs(owner: Account, repository: Repository, directory: RepositoryDirectory) {
  if (repository.owner.toLowerCase() === owner.login.toLowerCase()) return 'OWNER';
  if (owner.type === 'User' && directory.isMember(repository.owner, owner.login))
    return 'ORGANIZATION_MEMBER';
  // The simulator has no outside collaborators.
  return undefined;
}

/** The viewer's affiliation with a repository, for `affiliations`. */
function viewerAffiliation(viewer: string, repository: Repository, directory: RepositoryDirectory) {
  if (repository.owner.toLowerCase() === viewer.toLowerCase()) return 'OWNER';
  if (directory.isMember(repository.owner, viewer)) return 'ORGANIZATION_MEMBER';
  return undefined;
}

/**
 * One page of the repositories `owner` lists for `viewer`. Without `orderBy` they come in
 * creation order. Throws GitHub's errors for an invalid cursor and for `privacy` with
 * `visibility`; pagination bounds are checked before execution (query-limits).
 */
export function ownerRepositories(
  directory: RepositoryDirectory,
  owner: Account,
  viewer: string,
  args: RepositoriesArgs,
): Connection<Repository> {
  if (args.privacy != null && args.visibility != null) {
    throw new GithubError('UNPROCESSABLE', '`privacy` cannot be combined with `visibility`.');
  }
  const ownerAffiliations = new Set(args.ownerAffiliations ?? ['OWNER', 'COLLABORATOR']);
  const affiliations = new Set(args.affiliations ?? []);
  const matches = (r: Repository): boolean => {
    const owned = ownedAs(owner, r, directory);
    if (owned === undefined || !ownerAffiliations.has(owned)) return false;
    if (!directory.canRead(r, viewer)) return false;
    if (affiliations.size > 0) {
      const mine = viewerAffiliation(viewer, r, directory);
      if (mine === undefined || !affiliations.has(mine)) return false;
    }
    if (args.privacy === 'PUBLIC' && r.visibility !== 'public') return false;
    if (args.privacy === 'PRIVATE' && r.visibility === 'public') return false;
    if (args.visibility != null && r.visibility !== args.visibility.toLowerCase()) return false;
    if (args.isArchived != null && r.archived !== args.isArchived) return false;
    if (args.isFork != null && r.fork !== args.isFork) return false;
    // Simulated repositories are never locked and always have issues enabled.
    if (args.isLocked === true || args.hasIssuesEnabled === false) return false;
    return true;
  };

  const field = args.orderBy?.field ?? 'CREATED_AT';
  const sign = args.orderBy?.direction === 'DESC' ? -1 : 1;
  const keyed = directory.repositories
    .filter(matches)
    .map((r) => ({ r, key: [sortValue(r, field), r.id] as SortKey }));
  keyed.sort((a, b) => sign * compareKeys(a.key, b.key));

  const after = args.after == null ? undefined : decodeRepositoryCursor(args.after, 'after');
  const before = args.before == null ? undefined : decodeRepositoryCursor(args.before, 'before');
  // The window between the cursors, found by binary search over the sorted keys.
  const firstBeyond = (key: SortKey) => {
    let low = 0;
    let high = keyed.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (sign * compareKeys(keyed[mid]!.key, key) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  const firstAtOrBeyond = (key: SortKey) => {
    let low = 0;
    let high = keyed.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (sign * compareKeys(keyed[mid]!.key, key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  const windowStart = after === undefined ? 0 : firstBeyond(after);
  const windowEnd = Math.max(
    windowStart,
    before === undefined ? keyed.length : firstAtOrBeyond(before),
  );
  let start = windowStart;
  let end = windowEnd;
  if (args.first != null) end = Math.min(end, start + Math.max(0, args.first));
  if (args.last != null) start = Math.max(start, end - Math.max(0, args.last));
  const edges = keyed
    .slice(start, end)
    .map(({ r, key }) => ({ cursor: encodeRepositoryCursor(key), node: r }));
  return {
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage: args.first != null ? end < windowEnd : false,
      hasPreviousPage: args.last != null ? start > windowStart : false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: keyed.length,
  };
}
