import {
  CodeHostError,
  parseRepositoryName,
  type CodeHost,
  type CodeHostConfig,
  type RepositoryInfo,
  type Visibility,
} from '@campaigns/codehost';
import { runMigrations, silentLogger, type EventsLogger } from '@campaigns/events';
import type pg from 'pg';
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
  codeHostId: string;
  owner: string;
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
  /** Repositories the organizations list now. */
  repositories: number;
  /** Repositories whose files were (re-)listed because their head commit changed. */
  filesListed: number;
  /** Repositories removed because no configured organization lists them any more. */
  removed: number;
}

export interface RepositoryIndexOptions {
  pool: pg.Pool;
  codeHosts: readonly IndexedCodeHost[];
  logger?: EventsLogger;
  /** Code host requests in flight at once during a refresh (default 8). */
  concurrency?: number;
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

const COLUMNS =
  'name, code_host_id, owner, default_branch, head_commit, archived, fork, visibility, listed, files, files_commit, indexed_at';

/**
 * The repositories of every configured code host's `organizations`, with their file paths at the
 * default branch's head, kept in PostgreSQL (`spec_service.indexed_repositories`) so that
 * `repositoriesMatchingQuery` can be evaluated without a search engine.
 *
 * `refresh()` is incremental: it lists each organization (paged) and asks `getRepository` for
 * every repository's head commit (two requests per repository, at most `concurrency` at once),
 * but lists a repository's files (`listFiles`, one recursive tree request) only when its head
 * commit differs from the one its stored files were listed at. An unchanged repository costs no
 * `listFiles` call. Repositories that no organization lists any more are removed; repositories
 * indexed on demand by `ensure` (explicit `repository:` entries outside the organizations) are
 * kept, and re-checked by the next `ensure`.
 */
export class RepositoryIndex {
  readonly #pool: pg.Pool;
  readonly #hosts: readonly IndexedCodeHost[];
  readonly #logger: EventsLogger;
  readonly #concurrency: number;
  #migrated: Promise<void> | undefined;

  constructor(options: RepositoryIndexOptions) {
    this.#pool = options.pool;
    this.#hosts = options.codeHosts;
    this.#logger = options.logger ?? silentLogger;
    this.#concurrency = Math.max(1, options.concurrency ?? 8);
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
   * Re-lists every code host's organizations (see the class comment for what it costs). Throws a
   * `RepositoryIndexError` naming the code host when one cannot be read; what was indexed before
   * stays as it was for that host.
   */
  async refresh(): Promise<RefreshReport[]> {
    await this.migrate();
    const reports: RefreshReport[] = [];
    for (const host of this.#hosts) reports.push(await this.#refreshHost(host));
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
        sameSet(
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
      await this.#store(host, info, false);
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

  async #refreshHost(host: IndexedCodeHost): Promise<RefreshReport> {
    const started = Date.now();
    const seen = new Set<string>();
    let filesListed = 0;
    try {
      for (const owner of host.config.organizations) {
        let cursor: string | undefined;
        do {
          const page = await host.codeHost.listRepositories({
            owner,
            perPage: 100,
            ...(cursor === undefined ? {} : { cursor }),
          });
          const fresh = page.items.filter((r) => !seen.has(r.name.toLowerCase()));
          fresh.forEach((r) => seen.add(r.name.toLowerCase()));
          const listed = await mapLimit(fresh, this.#concurrency, async (summary) => {
            const info = await host.codeHost.getRepository(summary.name);
            return this.#store(host, info, true);
          });
          filesListed += listed.filter(Boolean).length;
          cursor = page.nextCursor;
        } while (cursor !== undefined);
      }
    } catch (error) {
      throw this.#failure(host, error);
    }
    const removed = await this.#pool.query(
      `DELETE FROM spec_service.indexed_repositories
        WHERE code_host_id = $1 AND listed AND NOT (lower(name) = ANY($2::text[]))`,
      [host.config.id, [...seen]],
    );
    await this.#pool.query(
      `INSERT INTO spec_service.repository_index_refreshes (code_host_id, organizations, refreshed_at)
       VALUES ($1, $2, now())
       ON CONFLICT (code_host_id)
       DO UPDATE SET organizations = EXCLUDED.organizations, refreshed_at = EXCLUDED.refreshed_at`,
      [host.config.id, host.config.organizations.map((o) => o.toLowerCase())],
    );
    const report: RefreshReport = {
      codeHostId: host.config.id,
      repositories: seen.size,
      filesListed,
      removed: removed.rowCount ?? 0,
    };
    this.#logger.info(
      { ...report, ms: Date.now() - started },
      'repository index refreshed for a code host',
    );
    return report;
  }

  /**
   * Upserts one repository; lists its files only when the stored ones are not at its head
   * commit. Resolves to whether it listed files.
   */
  async #store(host: IndexedCodeHost, info: RepositoryInfo, listed: boolean): Promise<boolean> {
    const { rows } = await this.#pool.query<{ files_commit: string | null; name: string }>(
      'SELECT name, files_commit FROM spec_service.indexed_repositories WHERE lower(name) = lower($1)',
      [info.name],
    );
    const previous = rows[0];
    const unchanged =
      previous !== undefined &&
      previous.files_commit === info.headCommit &&
      previous.name === info.name;
    let files: string[] | undefined;
    if (!unchanged) {
      files =
        info.headCommit === null ? [] : await host.codeHost.listFiles(info.name, info.headCommit);
      files.sort();
    }
    if (previous !== undefined && previous.name !== info.name) {
      // Renamed in letter case only: the code host's spelling wins.
      await this.#pool.query(
        'DELETE FROM spec_service.indexed_repositories WHERE lower(name) = lower($1)',
        [info.name],
      );
    }
    await this.#pool.query(
      `INSERT INTO spec_service.indexed_repositories
         (name, code_host_id, owner, default_branch, head_commit, archived, fork, visibility,
          listed, files, files_commit, indexed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10::text[], '{}'), $5, now())
       ON CONFLICT (name) DO UPDATE SET
         code_host_id = EXCLUDED.code_host_id,
         owner = EXCLUDED.owner,
         default_branch = EXCLUDED.default_branch,
         head_commit = EXCLUDED.head_commit,
         archived = EXCLUDED.archived,
         fork = EXCLUDED.fork,
         visibility = EXCLUDED.visibility,
         listed = indexed_repositories.listed OR EXCLUDED.listed,
         files = COALESCE($10::text[], indexed_repositories.files),
         files_commit = EXCLUDED.head_commit,
         indexed_at = now()`,
      [
        info.name,
        host.config.id,
        info.owner,
        info.defaultBranch,
        info.headCommit,
        info.archived,
        info.fork,
        info.visibility,
        listed,
        files ?? null,
      ],
    );
    return files !== undefined && info.headCommit !== null;
  }
}

function toRepository(row: Row): IndexedRepository {
  return {
    name: row.name,
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

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
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
