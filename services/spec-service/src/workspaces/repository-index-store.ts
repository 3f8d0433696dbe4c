// Every statement of the repository index (`spec_service.indexed_repositories` and
// `repository_index_refreshes`; their DDL is `repository-index.migrations.ts`). What to list and
// what a page costs is decided in `listing-plan.ts`; `repository-index.ts` asks the code hosts.
import type { RepositoryInfo, Visibility } from '@campaigns/codehost';
import { checkout, poolOf } from '@campaigns/events';
import type { DataSource, SelectQueryBuilder } from 'typeorm';
import { IndexedRepositoryRecord } from './indexed-repository.entity.js';
import type { LastRefresh, StoredRepository } from './listing-plan.js';
import { RepositoryIndexRefresh } from './repository-index-refresh.entity.js';

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
  /** As the code host has it; null when there is none (or the row predates migration 3). */
  description: string | null;
  /** Lower case, as the code host keeps them. */
  topics: string[];
  /** When the head commit was committed; null for an empty repository. */
  headCommittedAt: Date | null;
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
  description: string | null;
  topics: string[];
  head_committed_at: Date | null;
}

/** Serializes refreshes that may be skipped (`refreshIfOlderThan`) across instances. */
const REFRESH_LOCK_KEY = 7_042_101;

const COLUMNS = [
  'name',
  'node_id',
  'code_host_id',
  'owner',
  'default_branch',
  'head_commit',
  'archived',
  'fork',
  'visibility',
  'listed',
  'files',
  'files_commit',
  'indexed_at',
  'description',
  'topics',
  'head_committed_at',
] as const;

/** Selects a `Row` of each repository of `alias`, each column under its own name. */
function selectRows<T extends object>(qb: SelectQueryBuilder<T>, alias: string) {
  qb.select([]);
  for (const column of COLUMNS)
    // Files come as JSON: node-postgres parses it natively, many times faster than a text[] literal.
    qb.addSelect(
      column === 'files' ? `array_to_json(${alias}.files)` : `${alias}.${column}`,
      column,
    );
  return qb;
}

/**
 * Upserts one page of repositories; `files` null means "unchanged, keep the stored ones". Raw: a
 * set-based INSERT … SELECT FROM jsonb_to_recordset whose conflict update keeps stored columns,
 * which the QueryBuilder cannot express.
 */
const UPSERT_PAGE = `
  INSERT INTO spec_service.indexed_repositories
    (name, node_id, code_host_id, owner, default_branch, head_commit, archived, fork, visibility,
     listed, files, files_commit, indexed_at, description, topics, head_committed_at)
  SELECT r.name, r.node_id, $1, r.owner, r.default_branch, r.head_commit, r.archived, r.fork,
         r.visibility, $2, COALESCE(r.files, '{}'),
         CASE WHEN r.files IS NULL THEN NULL ELSE r.head_commit END, now(),
         r.description, r.topics, r.head_committed_at
    FROM jsonb_to_recordset($3::jsonb) AS r(name text, node_id text, owner text,
         default_branch text, head_commit text, archived boolean, fork boolean,
         visibility text, files text[], description text, topics text[],
         head_committed_at timestamptz)
  ON CONFLICT (name) DO UPDATE SET
    node_id = EXCLUDED.node_id,
    code_host_id = EXCLUDED.code_host_id,
    owner = EXCLUDED.owner,
    default_branch = EXCLUDED.default_branch,
    head_commit = EXCLUDED.head_commit,
    archived = EXCLUDED.archived,
    fork = EXCLUDED.fork,
    visibility = EXCLUDED.visibility,
    description = EXCLUDED.description,
    topics = EXCLUDED.topics,
    head_committed_at = EXCLUDED.head_committed_at,
    listed = indexed_repositories.listed OR EXCLUDED.listed,
    -- Files not listed now (EXCLUDED.files_commit NULL for a repository with commits) stay.
    files = CASE WHEN EXCLUDED.files_commit IS NULL AND EXCLUDED.head_commit IS NOT NULL
                 THEN indexed_repositories.files ELSE EXCLUDED.files END,
    files_commit = CASE WHEN EXCLUDED.files_commit IS NULL AND EXCLUDED.head_commit IS NOT NULL
                        THEN indexed_repositories.files_commit ELSE EXCLUDED.files_commit END,
    indexed_at = now()`;

/** The repository index's reads and writes, over the service's DataSource. */
export class RepositoryIndexStore {
  constructor(private readonly database: DataSource) {}

  private get repositories() {
    return this.database.getRepository(IndexedRepositoryRecord);
  }

  /**
   * Runs `fn` holding the refresh lock: instances sharing the database take turns. The lock is a
   * session's, held on a connection of its own from the DataSource's pool (no table is touched):
   * a connection whose unlock failed may still hold it, so it is ended rather than pooled.
   */
  async withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
    let broken = false;
    // Held while the code host is listed (seconds): a connection that dies meanwhile (PostgreSQL
    // restarting) fails the unlock instead of crashing the process with an unhandled 'error'.
    const client = await checkout(poolOf(this.database), () => {
      broken = true;
    });
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
      client.done(broken);
    }
  }

  /** Every code host's last refresh. */
  async refreshes(): Promise<RefreshRow[]> {
    const rows = await this.database.getRepository(RepositoryIndexRefresh).find({
      select: { codeHostId: true, organizations: true, refreshedAt: true },
    });
    return rows.map((r) => ({
      code_host_id: r.codeHostId,
      organizations: r.organizations,
      refreshed_at: r.refreshedAt,
    }));
  }

  /** What the index recorded about one code host's last refresh, if any. */
  async lastRefresh(codeHostId: string): Promise<LastRefresh | undefined> {
    const row = await this.database.getRepository(RepositoryIndexRefresh).findOne({
      select: { organizations: true, listingStartedAt: true, fullListingStartedAt: true },
      where: { codeHostId },
    });
    return row === null
      ? undefined
      : {
          organizations: row.organizations,
          listingStartedAt: row.listingStartedAt,
          fullListingStartedAt: row.fullListingStartedAt,
        };
  }

  /**
   * Records a finished refresh; a complete listing also records when it started (an incremental
   * one leaves the recorded start of the last complete listing as it is).
   */
  async recordRefresh(
    codeHostId: string,
    organizations: readonly string[],
    started: Date,
    full: boolean,
  ): Promise<void> {
    await this.database
      .createQueryBuilder()
      .insert()
      .into(RepositoryIndexRefresh)
      .values({
        codeHostId,
        organizations: [...organizations],
        refreshedAt: () => 'now()',
        listingStartedAt: started,
        fullListingStartedAt: full ? started : null,
      })
      .orUpdate(
        [
          'organizations',
          'refreshed_at',
          'listing_started_at',
          ...(full ? ['full_listing_started_at'] : []),
        ],
        ['code_host_id'],
      )
      .updateEntity(false)
      .execute();
  }

  /** The indexed repository of that name (any letter case), if any. */
  async get(repo: string): Promise<IndexedRepository | undefined> {
    const row = await selectRows(this.repositories.createQueryBuilder('r'), 'r')
      .where('lower(r.name) = lower(:repo)', { repo })
      .getRawOne<Row>();
    return row === undefined ? undefined : toRepository(row);
  }

  /** The code hosts' repositories by name: listed ones, and with `includeUnlisted` the others. */
  async list(
    codeHostIds: readonly string[],
    includeUnlisted: boolean,
  ): Promise<IndexedRepository[]> {
    const rows = await selectRows(this.repositories.createQueryBuilder('r'), 'r')
      .where('r.code_host_id = ANY (:codeHostIds::text[]) AND (r.listed OR :includeUnlisted)', {
        codeHostIds,
        includeUnlisted,
      })
      .orderBy('r.name')
      .getRawMany<Row>();
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
      selectRows(this.database.createQueryBuilder(), 'batch')
        .from((batch) => {
          batch.from(IndexedRepositoryRecord, 'r').select([]);
          for (const column of COLUMNS) batch.addSelect(`r.${column}`, column);
          return batch
            .where('r.name > :after AND r.code_host_id = ANY (:codeHostIds::text[]) AND r.listed')
            .orderBy('r.name')
            .limit(batchSize);
        }, 'batch')
        .setParameters({ after, codeHostIds })
        .orderBy('batch.name')
        .getRawMany<Row>();
    let next: Promise<Row[]> | undefined = fetchAfter('');
    while (next !== undefined) {
      const rows: Row[] = await next;
      next = rows.length < batchSize ? undefined : fetchAfter(rows.at(-1)!.name);
      next?.catch(() => undefined);
      visit(rows.map(toRepository));
    }
  }

  /** How many repositories the code host's organizations list. */
  async countListed(codeHostId: string): Promise<number> {
    return this.repositories.countBy({ codeHostId, listed: true });
  }

  /** Forgets a repository indexed on demand that the code host no longer has. */
  async forgetUnlisted(repo: string): Promise<void> {
    await this.repositories
      .createQueryBuilder()
      .delete()
      .where('lower(name) = lower(:repo) AND NOT listed', { repo })
      .execute();
  }

  /** After a complete listing: removes the listed repositories it did not see. */
  async removeUnseen(codeHostId: string, seen: readonly string[]): Promise<number> {
    const removed = await this.repositories
      .createQueryBuilder()
      .delete()
      .where('code_host_id = :codeHostId AND listed AND NOT (lower(name) = ANY (:seen::text[]))', {
        codeHostId,
        seen,
      })
      .execute();
    return removed.affected ?? 0;
  }

  /** What the index holds for a page: rows of the same name (any letter case) or node id. */
  async storedFor(page: readonly RepositoryInfo[]): Promise<StoredRepository[]> {
    const rows = await this.repositories
      .createQueryBuilder('r')
      .select('r.name', 'name')
      .addSelect('r.node_id', 'node_id')
      .addSelect('r.files_commit', 'files_commit')
      .where('lower(r.name) = ANY (:names::text[]) OR r.node_id = ANY (:nodeIds::text[])', {
        names: page.map((r) => r.name.toLowerCase()),
        nodeIds: page.map((r) => r.nodeId),
      })
      .getRawMany<{ name: string; node_id: string | null; files_commit: string | null }>();
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
      description: r.description,
      topics: r.topics.map((t) => t.toLowerCase()),
      head_committed_at: r.headCommittedAt,
    }));
    const upsert = [codeHostId, listed, JSON.stringify(records)];
    if (replaces.length === 0) {
      await this.database.query(UPSERT_PAGE, upsert);
      return;
    }
    // Renamed (or re-cased) repositories: their old rows go in the same transaction.
    await this.database.transaction(async (manager) => {
      await manager
        .createQueryBuilder()
        .delete()
        .from(IndexedRepositoryRecord)
        .where('name = ANY (:replaces::text[])', { replaces })
        .execute();
      await manager.query(UPSERT_PAGE, upsert);
    });
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
    description: row.description,
    topics: row.topics,
    headCommittedAt: row.head_committed_at,
  };
}
