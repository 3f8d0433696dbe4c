import type { Migration } from '@campaigns/events';

/** The component name the repository index records its migrations under. */
export const REPOSITORY_INDEX_COMPONENT = 'spec-service.repository-index';

/**
 * The repository index's tables in `spec_service` (created by the service's own first
 * migration), oldest first. Once committed a migration is never edited: add another.
 */
export const repositoryIndexMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'repository index',
    sql: `
      CREATE TABLE spec_service.indexed_repositories (
        name text PRIMARY KEY,
        code_host_id text NOT NULL,
        owner text NOT NULL,
        default_branch text NOT NULL,
        head_commit text,
        archived boolean NOT NULL,
        fork boolean NOT NULL,
        visibility text NOT NULL,
        -- Found by listing a configured organization (queries search these); false for
        -- repositories indexed on demand for an explicit "repository:" entry only.
        listed boolean NOT NULL,
        -- Every file path at files_commit (the head commit when the files were listed).
        files text[] NOT NULL DEFAULT '{}',
        files_commit text,
        indexed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX indexed_repositories_lower_name ON spec_service.indexed_repositories (lower(name));
      CREATE INDEX indexed_repositories_code_host ON spec_service.indexed_repositories (code_host_id);
      CREATE TABLE spec_service.repository_index_refreshes (
        code_host_id text PRIMARY KEY,
        organizations text[] NOT NULL,
        refreshed_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'node ids and incremental listings',
    sql: `
      -- The code host's id survives renames: a listed repository under a new name replaces its row.
      ALTER TABLE spec_service.indexed_repositories ADD COLUMN node_id text;
      CREATE INDEX indexed_repositories_node_id ON spec_service.indexed_repositories (node_id);
      -- When the last listing (complete or incremental) and the last complete one started; an
      -- incremental listing reaches back to the first, a complete one is due after the second.
      ALTER TABLE spec_service.repository_index_refreshes
        ADD COLUMN listing_started_at timestamptz,
        ADD COLUMN full_listing_started_at timestamptz;
    `,
  },
  {
    version: 3,
    name: 'descriptions, topics and head commit dates',
    sql: `
      -- What repo:has.description(…), repo:has.topic(…) and repo:has.commit.after(…) evaluate.
      ALTER TABLE spec_service.indexed_repositories
        ADD COLUMN description text,
        ADD COLUMN topics text[] NOT NULL DEFAULT '{}',
        ADD COLUMN head_committed_at timestamptz;
      -- Rows indexed before have none of them: the next refresh lists every repository again.
      UPDATE spec_service.repository_index_refreshes SET full_listing_started_at = NULL;
    `,
  },
];
