import {
  CodeHostError,
  parseRepositoryName,
  type CodeHost,
  type CodeHostConfig,
  type Page,
  type RepositoryInfo,
  type RepositoryOrder,
  type Visibility,
} from '@campaigns/codehost';
import { runMigrations, silentLogger, type EventsLogger } from '@campaigns/events';
import type pg from 'pg';
import {
  listsFurther,
  planListing,
  planPage,
  sameOrganizations,
  type LastRefresh,
  type StoredRepository,
} from './listing-plan.js';
import {
  REPOSITORY_INDEX_COMPONENT,
  repositoryIndexMigrations,
} from './repository-index.migrations.js';

/** A configured code host and its adapter: what the index lists and how. */
export interface IndexedCodeHost {
  config: CodeHostConfig;
  codeHost: CodeHost;
}

/** One repository as the index holds it. */
export interface IndexedRepository {
  /** `HOST/OWNER/NAME`, spelled as the code host spells it. */
  name: string;
  /** The code host's id for it; null for a row indexed before ids were kept. */
  nodeId: string | null;
  codeHostId: string;
  owner: string;
  /** '' for an empty repository. */
  defaultBranch: string;
  /** The default branch's head commit; null for an empty repository. */
  headCommit: string | null;
  archived: boolean;
  fork: boolean;
  visibility: Visibility;
  /** Found by listing a configured organization; false when indexed only on demand (`ensure`). */
  listed: boolean;
  /** Every file path at the head commit, sorted. */
  files: string[];
  indexedAt: Date;
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
  pool: pg.Pool;
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

interface Row {
  name: string;
  node_id: string | null;
  code_host_id: string;
  owner: string;
  default_branch: string;
  head_commit: string | null;
  archived: boolean;
  fork: boolean;
  visibility: Visibility;
  listed: boolean;
  files: string[];
  files_commit: string | null;
  indexed_at: Date;
}

/** Serializes refreshes that may be skipped (`refreshIfOlderThan`) across instances. */
const REFRESH_LOCK_KEY = 7_042_101;

// Files come as JSON: node-postgres parses it natively, many times faster than a text[] literal.
const COLUMNS =
  'name, node_id, code_host_id, owner, default_branch, head_commit, archived, fork, visibility, listed, array_to_json(files) AS files, files_commit, indexed_at';

/** Upserts one page of repositories; `files` null means "unchanged, keep the stored ones". */
const UPSERT_PAGE = `
  INSERT INTO spec_service.indexed_repositories
    (name, node_id, code_host_id, owner, default_branch, head_commit, archived, fork, visibility,
     listed, files, files_commit, indexed_at)
  SELECT r.name, r.node_id, $1, r.owner, r.default_branch, r.head_commit, r.archived, r.fork,
         r.visibility, $2, COALESCE(r.files, '{}'),
         CASE WHEN r.files IS NULL THEN NULL ELSE r.head_commit END, now()
    FROM jsonb_to_recordset($3::jsonb) AS r(name text, node_id text, owner text,
         default_branch text, head_commit text, archived boolean, fork boolean,
         visibility text, files text[])
  ON CONFLICT (name) DO UPDATE SET
    node_id = EXCLUDED.node_id,
    code_host_id = EXCLUDED.code_host_id,
    owner = EXCLUDED.owner,
    default_branch = EXCLUDED.default_branch,
    head_commit = EXCLUDED.head_commit,
    archived = EXCLUDED.archived,
    fork = EXCLUDED.fork,
    visibility = EXCLUDED.visibility,
    listed = indexed_repositories.listed OR EXCLUDED.listed,
    -- Files not listed now (EXCLUDED.files_commit NULL for a repository with commits) stay.
    files = CASE WHEN EXCLUDED.files_commit IS NULL AND EXCLUDED.head_commit IS NOT NULL
                 THEN indexed_repositories.files ELSE EXCLUDED.files END,
    files_commit = CASE WHEN EXCLUDED.files_commit IS NULL AND EXCLUDED.head_commit IS NOT NULL
                        THEN indexed_repositories.files_commit ELSE EXCLUDED.files_commit END,
    indexed_at = now()`;

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
 */
export class RepositoryIndex {
  readonly #pool: pg.Pool;
  readonly #hosts: readonly IndexedCodeHost[];
  readonly #logger: EventsLogger;
  readonly #concurrency: number;
  readonly #policy: { fullListingIntervalMs: number; marginMs: number };
  #migrated: Promise<void> | undefined;

  constructor(options: RepositoryIndexOptions) {
    this.#pool = options.pool;
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

  /** Creates or updates the index's tables; every other method calls it first. Idempotent. */
  migrate(): Promise<void> {
    this.#migrated ??= runMigrations(
      this.#pool,
      REPOSITORY_INDEX_COMPONENT,
      repositoryIndexMigrations,
    ).then(
      () => undefined,
      (error: unknown) => {
        this.#migrated = undefined;
        throw error;
      },
    );
    return this.#migrated;
  }

  /**
   * Lists every code host's organizations, completely or incrementally (see the class comment;
   * `full` forces a complete listing). Throws a `RepositoryIndexError` naming the code host when
   * one cannot be read; pages stored before the failure stay, nothing is removed, and the next
   * refresh reaches back as far as this one did.
   */
  async refresh(options: { full?: boolean } = {}): Promise<RefreshReport[]> {
    await this.migrate();
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
    await this.migrate();
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [REFRESH_LOCK_KEY]);
      try {
        const last = await this.lastRefreshed();
        const now = Date.now();
        const fresh = [...last.values()].every(
          (at) => at !== undefined && now - at.getTime() < maxAgeMs,
        );
        return fresh ? undefined : await this.refresh();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [REFRESH_LOCK_KEY]).catch(() => {
          broken = true;
        });
      }
    } finally {
      // A client whose unlock failed may still hold the lock: end it rather than pool it.
      client.release(broken);
    }
  }

  /**
   * When each code host's last refresh finished (with its organizations as configured now);
   * undefined for a host never refreshed or whose organizations changed since.
   */
  async lastRefreshed(): Promise<Map<string, Date | undefined>> {
    await this.migrate();
    const { rows } = await this.#pool.query<{
      code_host_id: string;
      organizations: string[];
      refreshed_at: Date;
    }>(
      'SELECT code_host_id, organizations, refreshed_at FROM spec_service.repository_index_refreshes',
    );
    const result = new Map<string, Date | undefined>();
    for (const host of this.#hosts) {
      const row = rows.find((r) => r.code_host_id === host.config.id);
      const same =
        row !== undefined &&
        sameOrganizations(
          row.organizations,
          host.config.organizations.map((o) => o.toLowerCase()),
        );
      result.set(host.config.id, same ? row.refreshed_at : undefined);
    }
    return result;
  }

  /**
   * Indexes one repository now (`HOST/OWNER/NAME`, any letter case), listing its files only when
   * its head commit changed. Resolves to undefined when the code host does not have it (or the
   * token cannot see it); throws `RepositoryIndexError` when no code host serves HOST or the code
   * host fails otherwise.
   */
  async ensure(repo: string): Promise<IndexedRepository | undefined> {
    await this.migrate();
    const host = this.#hostFor(repo);
    let info: RepositoryInfo;
    try {
      info = await host.codeHost.getRepository(repo);
    } catch (error) {
      if (error instanceof CodeHostError && error.context.status === 404) {
        await this.#pool.query(
          'DELETE FROM spec_service.indexed_repositories WHERE lower(name) = lower($1) AND NOT listed',
          [repo],
        );
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
    await this.migrate();
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLUMNS} FROM spec_service.indexed_repositories WHERE lower(name) = lower($1)`,
      [repo],
    );
    return rows[0] === undefined ? undefined : toRepository(rows[0]);
  }

  /**
   * Indexed repositories of the configured code hosts, sorted by name: by default only those
   * organizations list (what queries search); `includeUnlisted` adds on-demand ones.
   */
  async list(options: { includeUnlisted?: boolean } = {}): Promise<IndexedRepository[]> {
    await this.migrate();
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLUMNS} FROM spec_service.indexed_repositories
        WHERE code_host_id = ANY($1::text[]) AND (listed OR $2::boolean)
        ORDER BY name`,
      [this.#hosts.map((h) => h.config.id), options.includeUnlisted ?? false],
    );
    return rows.map(toRepository);
  }

  /**
   * Visits what `list()` returns, a batch at a time in name order, so that evaluating queries
   * over the whole index holds one batch of file lists in memory, not every repository's.
   */
  async scan(
    visit: (batch: IndexedRepository[]) => void,
    options: { batchSize?: number } = {},
  ): Promise<void> {
    await this.migrate();
    const batchSize = options.batchSize ?? 1000;
    const hostIds = this.#hosts.map((h) => h.config.id);
    // Pages by name. The batch is chosen before its files are turned into JSON: a plan that
    // sorts the rows after building them would build every remaining row for each batch.
    const fetchAfter = (after: string) =>
      this.#pool.query<Row>(
        `SELECT ${COLUMNS} FROM (
           SELECT * FROM spec_service.indexed_repositories
            WHERE name > $2 AND code_host_id = ANY($1::text[]) AND listed
            ORDER BY name LIMIT $3) AS batch
          ORDER BY name`,
        [hostIds, after, batchSize],
      );
    let next: Promise<pg.QueryResult<Row>> | undefined = fetchAfter('');
    while (next !== undefined) {
      const { rows }: pg.QueryResult<Row> = await next;
      // The next batch is read while this one is visited.
      next = rows.length < batchSize ? undefined : fetchAfter(rows.at(-1)!.name);
      next?.catch(() => undefined);
      visit(rows.map(toRepository));
    }
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
      await this.#lastRefresh(host),
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
      plan.kind === 'full'
        ? await this.#pool.query(
            `DELETE FROM spec_service.indexed_repositories
              WHERE code_host_id = $1 AND listed AND NOT (lower(name) = ANY($2::text[]))`,
            [host.config.id, [...seen]],
          )
        : undefined;
    await this.#pool.query(
      `INSERT INTO spec_service.repository_index_refreshes
         (code_host_id, organizations, refreshed_at, listing_started_at, full_listing_started_at)
       VALUES ($1, $2, now(), $3, $4)
       ON CONFLICT (code_host_id) DO UPDATE SET
         organizations = EXCLUDED.organizations,
         refreshed_at = EXCLUDED.refreshed_at,
         listing_started_at = EXCLUDED.listing_started_at,
         full_listing_started_at = COALESCE(EXCLUDED.full_listing_started_at,
                                            repository_index_refreshes.full_listing_started_at)`,
      [host.config.id, organizations, started, plan.kind === 'full' ? started : null],
    );
    const { rows } = await this.#pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM spec_service.indexed_repositories
        WHERE code_host_id = $1 AND listed`,
      [host.config.id],
    );
    const report: RefreshReport = {
      codeHostId: host.config.id,
      listing: plan.kind,
      listed: seen.size,
      repositories: rows[0]?.count ?? 0,
      filesListed,
      removed: removed?.rowCount ?? 0,
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

  async #lastRefresh(host: IndexedCodeHost): Promise<LastRefresh | undefined> {
    const { rows } = await this.#pool.query<{
      organizations: string[];
      listing_started_at: Date | null;
      full_listing_started_at: Date | null;
    }>(
      `SELECT organizations, listing_started_at, full_listing_started_at
         FROM spec_service.repository_index_refreshes WHERE code_host_id = $1`,
      [host.config.id],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : {
          organizations: row.organizations,
          listingStartedAt: row.listing_started_at,
          fullListingStartedAt: row.full_listing_started_at,
        };
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
    const { rows } = await this.#pool.query<{
      name: string;
      node_id: string | null;
      files_commit: string | null;
    }>(
      `SELECT name, node_id, files_commit FROM spec_service.indexed_repositories
        WHERE lower(name) = ANY($1::text[]) OR node_id = ANY($2::text[])`,
      [page.map((r) => r.name.toLowerCase()), page.map((r) => r.nodeId)],
    );
    const stored: StoredRepository[] = rows.map((r) => ({
      name: r.name,
      nodeId: r.node_id,
      filesCommit: r.files_commit,
    }));
    const plan = planPage(page, stored);
    const files = new Map<string, string[]>();
    await mapLimit(plan.listFiles, this.#concurrency, async (repo) => {
      const listedFiles = await host.codeHost.listFiles(repo.name, repo.headCommit!);
      files.set(repo.name, listedFiles.sort());
    });
    const records = page.map((r) => ({
      name: r.name,
      node_id: r.nodeId,
      owner: r.owner,
      default_branch: r.defaultBranch,
      head_commit: r.headCommit,
      archived: r.archived,
      fork: r.fork,
      visibility: r.visibility,
      files: r.headCommit === null ? [] : (files.get(r.name) ?? null),
    }));
    const upsert = [host.config.id, listed, JSON.stringify(records)];
    if (plan.replaced.length === 0) {
      await this.#pool.query(UPSERT_PAGE, upsert);
    } else {
      // Renamed (or re-cased) repositories: their old rows go in the same transaction.
      const client = await this.#pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          'DELETE FROM spec_service.indexed_repositories WHERE name = ANY($1::text[])',
          [plan.replaced],
        );
        await client.query(UPSERT_PAGE, upsert);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    }
    return plan.listFiles.length;
  }
}

function toRepository(row: Row): IndexedRepository {
  return {
    name: row.name,
    nodeId: row.node_id,
    codeHostId: row.code_host_id,
    owner: row.owner,
    defaultBranch: row.default_branch,
    headCommit: row.head_commit,
    archived: row.archived,
    fork: row.fork,
    visibility: row.visibility,
    listed: row.listed,
    files: row.files,
    indexedAt: row.indexed_at,
  };
}

/** Maps with at most `limit` calls in flight; rejects with the first failure. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
