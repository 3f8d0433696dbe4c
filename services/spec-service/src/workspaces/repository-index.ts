import {
  CodeHostError,
  parseRepositoryName,
  type CodeHost,
  type CodeHostConfig,
  type Page,
  type RepositoryInfo,
  type RepositoryOrder,
} from '@campaigns/codehost';
import { silentLogger, type EventsLogger } from '@campaigns/events';
import type { DataSource } from 'typeorm';
import {
  allFresh,
  lastRefreshedByHost,
  listsFurther,
  planListing,
  planPage,
} from './listing-plan.js';
import { mapLimit } from './map-limit.js';
import { RepositoryIndexStore, type IndexedRepository } from './repository-index-store.js';

export type { IndexedRepository } from './repository-index-store.js';

/** A configured code host and its adapter: what the index lists and how. */
export interface IndexedCodeHost {
  config: CodeHostConfig;
  codeHost: CodeHost;
}

/** What one `refresh()` did, per code host. */
export interface RefreshReport {
  codeHostId: string;
  /** `full`: every repository was listed and those gone removed; `incremental`: see the class. */
  listing: 'full' | 'incremental';
  /** Repositories the listing returned. */
  listed: number;
  /** Repositories of the organizations the index holds after the refresh. */
  repositories: number;
  /** Repositories whose files were (re-)listed because their head commit changed. */
  filesListed: number;
  /** Repositories removed because no configured organization lists them any more. */
  removed: number;
}

/** Default of `fullListingIntervalMs`: an hour. */
export const DEFAULT_FULL_LISTING_INTERVAL_MS = 60 * 60_000;
/** Default of `listingMarginMs`: five minutes. */
export const DEFAULT_LISTING_MARGIN_MS = 5 * 60_000;

export interface RepositoryIndexOptions {
  /**
   * The service's DataSource over `spec_service`, its tables already migrated (the service's
   * migrations include the index's, `REPOSITORY_INDEX_COMPONENT`).
   */
  database: DataSource;
  codeHosts: readonly IndexedCodeHost[];
  logger?: EventsLogger;
  /** File listings in flight at once during a refresh (default 8). */
  concurrency?: number;
  /**
   * A refresh lists every repository (and removes the ones gone) when the last complete listing
   * of the code host started this long ago (default an hour); otherwise it lists only what was
   * pushed to or changed since the last refresh.
   */
  fullListingIntervalMs?: number;
  /**
   * How far before the last refresh's start an incremental listing reaches back (default five
   * minutes): room for the code host's clock and for pushes it records late.
   */
  listingMarginMs?: number;
}

/** A code host could not be read while refreshing or ensuring; the message says which and why. */
export class RepositoryIndexError extends Error {
  override readonly name = 'RepositoryIndexError';
  constructor(
    message: string,
    /** `no_code_host`: no configured code host serves the name; `code_host_failed`: it failed. */
    readonly reason: 'no_code_host' | 'code_host_failed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The repositories of every configured code host's `organizations`, with their file paths at the
 * default branch's head, kept in PostgreSQL (`spec_service.indexed_repositories`) so that
 * `repositoriesMatchingQuery` can be evaluated without a search engine.
 *
 * `refresh()` asks nothing per repository but the file listing (`listFiles`, one recursive tree
 * request) of a repository whose head commit differs from the one its stored files were listed
 * at. The listings carry each repository's head commit, 100 a call (`listRepositories`):
 *
 * - A **complete** listing (the first, when the organizations changed, and when the last
 *   complete one started `fullListingIntervalMs` ago) pages through every repository in creation
 *   order: N/100 calls. Repositories no organization lists any more are removed.
 * - Otherwise an **incremental** listing pages newest first by push time, then by update time,
 *   and stops at the first page reaching back beyond the last refresh's start minus
 *   `listingMarginMs`: usually one call each. What it cannot see until the next complete
 *   listing: deleted repositories, repositories moved out or whose access the token lost, and
 *   repositories moved in without a push or an update.
 *
 * Each page is read and written with one statement each. A repository found under a new name
 * (same node id) replaces its old row. Repositories indexed on demand by `ensure` (explicit
 * `repository:` entries outside the organizations) are kept, and re-checked by the next `ensure`.
 *
 * This class asks the code hosts and carries the plans out; what to list and what a page costs
 * is decided in `listing-plan.ts` (pure), and every statement is in `repository-index-store.ts`.
 */
export class RepositoryIndex {
  readonly #store: RepositoryIndexStore;
  readonly #hosts: readonly IndexedCodeHost[];
  readonly #logger: EventsLogger;
  readonly #concurrency: number;
  readonly #policy: { fullListingIntervalMs: number; marginMs: number };

  constructor(options: RepositoryIndexOptions) {
    this.#store = new RepositoryIndexStore(options.database);
    this.#hosts = options.codeHosts;
    this.#logger = options.logger ?? silentLogger;
    this.#concurrency = Math.max(1, options.concurrency ?? 8);
    this.#policy = {
      fullListingIntervalMs: options.fullListingIntervalMs ?? DEFAULT_FULL_LISTING_INTERVAL_MS,
      marginMs: options.listingMarginMs ?? DEFAULT_LISTING_MARGIN_MS,
    };
  }

  get codeHosts(): readonly IndexedCodeHost[] {
    return this.#hosts;
  }

  /**
   * Lists every code host's organizations, completely or incrementally (see the class comment;
   * `full` forces a complete listing). Throws a `RepositoryIndexError` naming the code host when
   * one cannot be read; pages stored before the failure stay, nothing is removed, and the next
   * refresh reaches back as far as this one did.
   */
  async refresh(options: { full?: boolean } = {}): Promise<RefreshReport[]> {
    const reports: RefreshReport[] = [];
    for (const host of this.#hosts) reports.push(await this.#refreshHost(host, options.full));
    return reports;
  }

  /**
   * Refreshes unless every code host was refreshed less than `maxAgeMs` ago; resolves to
   * undefined when it skipped. Instances sharing the database take turns (a PostgreSQL advisory
   * lock), so when several resolve at once one refreshes and the others find it fresh.
   */
  async refreshIfOlderThan(maxAgeMs: number): Promise<RefreshReport[] | undefined> {
    return this.#store.withRefreshLock(async () => {
      const fresh = allFresh(await this.lastRefreshed(), Date.now(), maxAgeMs);
      return fresh ? undefined : await this.refresh();
    });
  }

  /**
   * When each code host's last refresh finished (with its organizations as configured now);
   * undefined for a host never refreshed or whose organizations changed since.
   */
  async lastRefreshed(): Promise<Map<string, Date | undefined>> {
    const recorded = (await this.#store.refreshes()).map((r) => ({
      codeHostId: r.code_host_id,
      organizations: r.organizations,
      refreshedAt: r.refreshed_at,
    }));
    return lastRefreshedByHost(
      recorded,
      this.#hosts.map((h) => ({ id: h.config.id, organizations: h.config.organizations })),
    );
  }

  /**
   * Indexes one repository now (`HOST/OWNER/NAME`, any letter case), listing its files only when
   * its head commit changed. Resolves to undefined when the code host does not have it (or the
   * token cannot see it); throws `RepositoryIndexError` when no code host serves HOST or the code
   * host fails otherwise.
   */
  async ensure(repo: string): Promise<IndexedRepository | undefined> {
    const host = this.#hostFor(repo);
    let info: RepositoryInfo;
    try {
      info = await host.codeHost.getRepository(repo);
    } catch (error) {
      if (error instanceof CodeHostError && error.context.status === 404) {
        await this.#store.forgetUnlisted(repo);
        return undefined;
      }
      throw this.#failure(host, error);
    }
    try {
      await this.#storePage(host, [info], false);
    } catch (error) {
      throw this.#failure(host, error);
    }
    return this.get(info.name);
  }

  /** The indexed repository of that name (any letter case), if any. */
  async get(repo: string): Promise<IndexedRepository | undefined> {
    return this.#store.get(repo);
  }

  /**
   * Indexed repositories of the configured code hosts, sorted by name: by default only those
   * organizations list (what queries search); `includeUnlisted` adds on-demand ones.
   */
  async list(options: { includeUnlisted?: boolean } = {}): Promise<IndexedRepository[]> {
    return this.#store.list(
      this.#hosts.map((h) => h.config.id),
      options.includeUnlisted ?? false,
    );
  }

  /**
   * Visits what `list()` returns, a batch at a time in name order, so that evaluating queries
   * over the whole index holds one batch of file lists in memory, not every repository's.
   */
  async scan(
    visit: (batch: IndexedRepository[]) => void,
    options: { batchSize?: number } = {},
  ): Promise<void> {
    const hostIds = this.#hosts.map((h) => h.config.id);
    await this.#store.scan(hostIds, options.batchSize ?? 1000, visit);
  }

  #hostFor(repo: string): IndexedCodeHost {
    let hostName: string;
    try {
      hostName = parseRepositoryName(repo).host;
    } catch (error) {
      throw new RepositoryIndexError((error as Error).message, 'no_code_host');
    }
    const host = this.#hosts.find((h) => h.config.host === hostName);
    if (host === undefined) {
      const known = this.#hosts.map((h) => h.config.host).join(', ') || 'none';
      throw new RepositoryIndexError(
        `no code host is configured for ${repo} (configured hosts: ${known})`,
        'no_code_host',
      );
    }
    return host;
  }

  #failure(host: IndexedCodeHost, error: unknown): RepositoryIndexError {
    const reason = error instanceof Error ? error.message : String(error);
    return new RepositoryIndexError(
      `could not index the repositories of code host "${host.config.id}" (${host.config.url}): ${reason}`,
      'code_host_failed',
      { cause: error },
    );
  }

  async #refreshHost(host: IndexedCodeHost, forceFull = false): Promise<RefreshReport> {
    const started = new Date();
    const organizations = host.config.organizations.map((o) => o.toLowerCase());
    const plan = planListing(
      await this.#store.lastRefresh(host.config.id),
      organizations,
      started,
      this.#policy,
      forceFull,
    );
    const seen = new Set<string>();
    let filesListed = 0;
    const store = async (page: RepositoryInfo[]) => {
      const fresh = page.filter((r) => !seen.has(r.name.toLowerCase()));
      fresh.forEach((r) => seen.add(r.name.toLowerCase()));
      filesListed += await this.#storePage(host, fresh, true);
    };
    try {
      for (const owner of host.config.organizations) {
        if (plan.kind === 'full') {
          await this.#walk(host, owner, 'created', 'asc', undefined, store);
        } else {
          for (const order of plan.orders) {
            // A listing that reached the end saw every repository: the next order has no news.
            if (await this.#walk(host, owner, order, 'desc', plan.since, store)) break;
          }
        }
      }
    } catch (error) {
      throw this.#failure(host, error);
    }
    const removed =
      plan.kind === 'full' ? await this.#store.removeUnseen(host.config.id, [...seen]) : 0;
    await this.#store.recordRefresh(host.config.id, organizations, started, plan.kind === 'full');
    const report: RefreshReport = {
      codeHostId: host.config.id,
      listing: plan.kind,
      listed: seen.size,
      repositories: await this.#store.countListed(host.config.id),
      filesListed,
      removed,
    };
    this.#logger.info(
      {
        ...report,
        ...(plan.kind === 'full' ? { why: plan.reason } : { since: plan.since.toISOString() }),
        ms: Date.now() - started.getTime(),
      },
      'repository index refreshed for a code host',
    );
    return report;
  }

  /**
   * Pages through one owner's repositories in `order`, handing each page to `onPage` while the
   * next one is fetched; with `since`, stops after the page that reaches back beyond it.
   * Resolves to whether it listed every repository.
   */
  async #walk(
    host: IndexedCodeHost,
    owner: string,
    order: RepositoryOrder,
    direction: 'asc' | 'desc',
    since: Date | undefined,
    onPage: (page: RepositoryInfo[]) => Promise<void>,
  ): Promise<boolean> {
    const fetch = (cursor?: string) =>
      host.codeHost.listRepositories({
        owner,
        perPage: 100,
        orderBy: order,
        direction,
        ...(cursor === undefined ? {} : { cursor }),
      });
    let next: Promise<Page<RepositoryInfo>> | undefined = fetch();
    let complete = false;
    while (next !== undefined) {
      const page: Page<RepositoryInfo> = await next;
      complete = page.nextCursor === undefined;
      const further = !complete && (since === undefined || listsFurther(page.items, order, since));
      next = further ? fetch(page.nextCursor) : undefined;
      // Should storing this page fail, the prefetched one's failure is not the one to report.
      next?.catch(() => undefined);
      await onPage(page.items);
    }
    return complete;
  }

  /**
   * Stores one page of repositories (listed by an organization, or ensured): one statement reads
   * what the index holds for them, their files are listed where their head moved, and one
   * statement writes them all. Resolves to how many file listings it made.
   */
  async #storePage(
    host: IndexedCodeHost,
    page: readonly RepositoryInfo[],
    listed: boolean,
  ): Promise<number> {
    if (page.length === 0) return 0;
    const plan = planPage(page, await this.#store.storedFor(page));
    const files = new Map<string, string[]>();
    await mapLimit(plan.listFiles, this.#concurrency, async (repo) => {
      const listedFiles = await host.codeHost.listFiles(repo.name, repo.headCommit!);
      files.set(repo.name, listedFiles.sort());
    });
    await this.#store.writePage(host.config.id, listed, page, files, plan.replaced);
    return plan.listFiles.length;
  }
}
