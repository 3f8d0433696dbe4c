// What a refresh of the repository index lists, how far, and what each listed page costs: pure
// decisions over what the index stored before, apart from the code host calls that carry them out.
import type { RepositoryInfo, RepositoryOrder } from '@campaigns/codehost';

/** What the index recorded about a code host's last refresh. */
export interface LastRefresh {
  /** Organizations as configured then (lower case). */
  organizations: readonly string[];
  /** When the last refresh (complete or incremental) started listing; null before the first. */
  listingStartedAt: Date | null;
  /** When the last complete listing started; null before the first. */
  fullListingStartedAt: Date | null;
}

export interface ListingPolicy {
  /** A complete listing is due when the last one started this long ago. */
  fullListingIntervalMs: number;
  /** An incremental listing reaches back this far before the last listing started. */
  marginMs: number;
}

/**
 * `full`: list every repository in creation order (an order pushes and renames do not change,
 * so none is missed) and remove those no longer listed. `incremental`: list newest first, by
 * push time and then by update time, down to `since`; nothing is removed.
 */
export type ListingPlan =
  | { kind: 'full'; reason: string }
  | { kind: 'incremental'; since: Date; orders: readonly RepositoryOrder[] };

/** The orders an incremental listing walks, newest first: pushes, then everything else. */
export const INCREMENTAL_ORDERS: readonly RepositoryOrder[] = ['pushed', 'updated'];

export function planListing(
  last: LastRefresh | undefined,
  organizations: readonly string[],
  now: Date,
  policy: ListingPolicy,
  forceFull = false,
): ListingPlan {
  if (forceFull) return { kind: 'full', reason: 'asked for' };
  if (last === undefined || last.listingStartedAt === null || last.fullListingStartedAt === null)
    return { kind: 'full', reason: 'never listed completely' };
  if (!sameOrganizations(last.organizations, organizations))
    return { kind: 'full', reason: 'the organizations changed' };
  if (now.getTime() - last.fullListingStartedAt.getTime() >= policy.fullListingIntervalMs)
    return { kind: 'full', reason: 'the last complete listing is too old' };
  return {
    kind: 'incremental',
    since: new Date(last.listingStartedAt.getTime() - policy.marginMs),
    orders: INCREMENTAL_ORDERS,
  };
}

/**
 * Whether an incremental listing in `order` (newest first) goes on past a page: only while the
 * page's last repository still changed at or after `since`.
 */
export function listsFurther(
  page: readonly RepositoryInfo[],
  order: RepositoryOrder,
  since: Date,
): boolean {
  const last = page.at(-1);
  if (last === undefined) return false;
  const at = order === 'pushed' ? last.pushedAt : order === 'updated' ? last.updatedAt : null;
  return at !== null && Date.parse(at) >= since.getTime();
}

/** A row of the index as a page is compared with it. */
export interface StoredRepository {
  name: string;
  nodeId: string | null;
  filesCommit: string | null;
}

export interface PagePlan {
  /** Stored rows to delete before the page is written: the same repository under another name. */
  replaced: string[];
  /** Repositories whose files must be listed: their head moved, or they are new to the index. */
  listFiles: RepositoryInfo[];
}

/**
 * Compares a listed page with what the index holds for it (found by node id or by name, any
 * letter case). A repository keeps its files when the row under its exact name is the same
 * repository and its files were listed at the current head commit.
 */
export function planPage(
  page: readonly RepositoryInfo[],
  stored: readonly StoredRepository[],
): PagePlan {
  const byNode = new Map<string, StoredRepository>();
  const byName = new Map<string, StoredRepository>();
  for (const row of stored) {
    if (row.nodeId !== null) byNode.set(row.nodeId, row);
    byName.set(row.name.toLowerCase(), row);
  }
  const replaced = new Set<string>();
  const listFiles: RepositoryInfo[] = [];
  for (const repo of page) {
    const sameName = byName.get(repo.name.toLowerCase());
    for (const row of [byNode.get(repo.nodeId), sameName]) {
      if (row !== undefined && row.name !== repo.name) replaced.add(row.name);
    }
    const current =
      sameName !== undefined &&
      sameName.name === repo.name &&
      (sameName.nodeId === null || sameName.nodeId === repo.nodeId) &&
      sameName.filesCommit === repo.headCommit;
    if (repo.headCommit !== null && !current) listFiles.push(repo);
  }
  return { replaced: [...replaced], listFiles };
}

/** Whether two lists name the same organizations (lower case, any order). */
export function sameOrganizations(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/** A code host's last refresh as the index stored it. */
export interface RecordedRefresh {
  codeHostId: string;
  /** Organizations as configured then (lower case). */
  organizations: readonly string[];
  /** When it finished. */
  refreshedAt: Date;
}

/**
 * When each code host's last refresh finished (with its organizations as configured now);
 * undefined for a host never refreshed or whose organizations changed since.
 */
export function lastRefreshedByHost(
  recorded: readonly RecordedRefresh[],
  hosts: readonly { id: string; organizations: readonly string[] }[],
): Map<string, Date | undefined> {
  const result = new Map<string, Date | undefined>();
  for (const host of hosts) {
    const row = recorded.find((r) => r.codeHostId === host.id);
    const same =
      row !== undefined &&
      sameOrganizations(
        row.organizations,
        host.organizations.map((o) => o.toLowerCase()),
      );
    result.set(host.id, same ? row.refreshedAt : undefined);
  }
  return result;
}

/** Whether every code host's last refresh finished less than `maxAgeMs` before `now`. */
export function allFresh(
  last: ReadonlyMap<string, Date | undefined>,
  now: number,
  maxAgeMs: number,
): boolean {
  return [...last.values()].every((at) => at !== undefined && now - at.getTime() < maxAgeMs);
}
