// Every statement of the repository index (`spec_service.indexed_repositories` and
// `repository_index_refreshes`; their DDL is `repository-index.migrations.ts`). What to list and
// what a page costs is decided in `listing-plan.ts`; `repository-index.ts` asks the code hosts.
import type { RepositoryInfo, Visibility } from '@campaigns/codehost';
import type pg from 'pg';
import type { LastRefresh, StoredRepository } from './listing-plan.js';

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

/** A code host's last refresh as stored: its organizations then, and when it finished. */
export interface RefreshRow {
  code_host_id: string;
  organizations: string[];
  refreshed_at: Date;
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

/** The repository index's reads and writes, over one pool. */
export class RepositoryIndexStore {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Runs `fn` holding the refresh lock: instances sharing the database take turns. A client whose
   * unlock failed may still hold the lock: it is ended rather than pooled.
   */
  async withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [REFRESH_LOCK_KEY]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [REFRESH_LOCK_KEY]).catch(() => {
          broken = true;
        });
      }
    } finally {
      client.release(broken);
    }
  }

  /** Every code host's last refresh. */
  async refreshes(): Promise<RefreshRow[]> {
    const { rows } = await this.pool.query<RefreshRow>(
      'SELECT code_host_id, organizations, refreshed_at FROM spec_service.repository_index_refreshes',
    );
    return rows;
  }

  /** What the index recorded about one code host's last refresh, if any. */
  async lastRefresh(codeHostId: string): Promise<LastRefresh | undefined> {
    const { rows } = await this.pool.query<{
      organizations: string[];
      listing_started_at: Date | null;
      full_listing_started_at: Date | null;
    }>(
      `SELECT organizations, listing_started_at, full_listing_started_at
         FROM spec_service.repository_index_refreshes WHERE code_host_id = $1`,
      [codeHostId],
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

  /** Records a finished refresh; a complete listing also records when it started. */
  async recordRefresh(
    codeHostId: string,
    organizations: readonly string[],
    started: Date,
    full: boolean,
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO spec_service.repository_index_refreshes
         (code_host_id, organizations, refreshed_at, listing_started_at, full_listing_started_at)
       VALUES ($1, $2, now(), $3, $4)
       ON CONFLICT (code_host_id) DO UPDATE SET
         organizations = EXCLUDED.organizations,
         refreshed_at = EXCLUDED.refreshed_at,
         listing_started_at = EXCLUDED.listing_started_at,
         full_listing_started_at = COALESCE(EXCLUDED.full_listing_started_at,
                                            repository_index_refreshes.full_listing_started_at)`,
      [codeHostId, organizations, started, full ? started : null],
    );
  }

  /** The indexed repository of that name (any letter case), if any. */
  async get(repo: string): Promise<IndexedRepository | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM spec_service.indexed_repositories WHERE lower(name) = lower($1)`,
      [repo],
    );
    return rows[0] === undefined ? undefined : toRepository(rows[0]);
  }

  /** The code hosts' repositories by name: listed ones, and with `includeUnlisted` the others. */
  async list(
    codeHostIds: readonly string[],
    includeUnlisted: boolean,
  ): Promise<IndexedRepository[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM spec_service.indexed_repositories
        WHERE code_host_id = ANY($1::text[]) AND (listed OR $2::boolean)
        ORDER BY name`,
      [codeHostIds, includeUnlisted],
    );
    return rows.map(toRepository);
  }

  /**
   * Visits the listed repositories of the code hosts, `batchSize` at a time in name order; the
   * next batch is read while one is visited.
   */
  async scan(
    codeHostIds: readonly string[],
    batchSize: number,
    visit: (batch: IndexedRepository[]) => void,
  ): Promise<void> {
    // Pages by name. The batch is chosen before its files are turned into JSON: a plan that
    // sorts the rows after building them would build every remaining row for each batch.
    const fetchAfter = (after: string) =>
      this.pool.query<Row>(
        `SELECT ${COLUMNS} FROM (
           SELECT * FROM spec_service.indexed_repositories
            WHERE name > $2 AND code_host_id = ANY($1::text[]) AND listed
            ORDER BY name LIMIT $3) AS batch
          ORDER BY name`,
        [codeHostIds, after, batchSize],
      );
    let next: Promise<pg.QueryResult<Row>> | undefined = fetchAfter('');
    while (next !== undefined) {
      const { rows }: pg.QueryResult<Row> = await next;
      next = rows.length < batchSize ? undefined : fetchAfter(rows.at(-1)!.name);
      next?.catch(() => undefined);
      visit(rows.map(toRepository));
    }
  }

  /** How many repositories the code host's organizations list. */
  async countListed(codeHostId: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM spec_service.indexed_repositories
        WHERE code_host_id = $1 AND listed`,
      [codeHostId],
    );
    return rows[0]?.count ?? 0;
  }

  /** Forgets a repository indexed on demand that the code host no longer has. */
  async forgetUnlisted(repo: string): Promise<void> {
    await this.pool.query(
      'DELETE FROM spec_service.indexed_repositories WHERE lower(name) = lower($1) AND NOT listed',
      [repo],
    );
  }

  /** After a complete listing: removes the listed repositories it did not see. */
  async removeUnseen(codeHostId: string, seen: readonly string[]): Promise<number> {
    const removed = await this.pool.query(
      `DELETE FROM spec_service.indexed_repositories
        WHERE code_host_id = $1 AND listed AND NOT (lower(name) = ANY($2::text[]))`,
      [codeHostId, seen],
    );
    return removed.rowCount ?? 0;
  }

  /** What the index holds for a page: rows of the same name (any letter case) or node id. */
  async storedFor(page: readonly RepositoryInfo[]): Promise<StoredRepository[]> {
    const { rows } = await this.pool.query<{
      name: string;
      node_id: string | null;
      files_commit: string | null;
    }>(
      `SELECT name, node_id, files_commit FROM spec_service.indexed_repositories
        WHERE lower(name) = ANY($1::text[]) OR node_id = ANY($2::text[])`,
      [page.map((r) => r.name.toLowerCase()), page.map((r) => r.nodeId)],
    );
    return rows.map((r) => ({ name: r.name, nodeId: r.node_id, filesCommit: r.files_commit }));
  }

  /**
   * Writes a page with one statement: each repository with the `files` listed for it now, or its
   * stored ones kept. Rows it `replaces` (the same repositories under their old names) are deleted
   * in the same transaction.
   */
  async writePage(
    codeHostId: string,
    listed: boolean,
    page: readonly RepositoryInfo[],
    files: ReadonlyMap<string, string[]>,
    replaces: readonly string[],
  ): Promise<void> {
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
    const upsert = [codeHostId, listed, JSON.stringify(records)];
    if (replaces.length === 0) {
      await this.pool.query(UPSERT_PAGE, upsert);
      return;
    }
    // Renamed (or re-cased) repositories: their old rows go in the same transaction.
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        'DELETE FROM spec_service.indexed_repositories WHERE name = ANY($1::text[])',
        [replaces],
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
