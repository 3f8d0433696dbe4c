import {
  assertIdentifier,
  DOMAIN_CATEGORIES,
  type ProjectionDefinition,
  type StoredEvent,
} from '@campaigns/events';
import type { PoolClient } from 'pg';

/** The projection's table: one row per pull request a campaign tracks. */
export const TRACKED_PULL_REQUESTS_TABLE = 'tracked_pull_requests';

/** A pull request a campaign's changeset owns, as the gateway knows it from the events. */
export interface TrackedPullRequest {
  /** Host-qualified, e.g. `github.com/acme/api`. */
  repository: string;
  number: number;
  changesetId: string;
  campaign: string;
  headBranch: string;
  /** The head commit the latest event named, if any did. */
  headRefOid: string | null;
}

interface ChangesetFacts {
  changesetId: string;
  campaign: string;
  repository: string;
  headBranch: string;
  number?: number | null;
  headRefOid?: string;
  commitSha?: string;
}

/**
 * (repository, number) → changeset, from every changeset event that names a pull request number:
 * ChangesetPublished, ChangesetUpdated (when it has one), ChangesetClosed and ChangesetObserved.
 * The head commit follows ChangesetPublished, a push's commitSha and observations.
 */
export const trackedPullRequestsProjection: ProjectionDefinition = {
  name: 'tracked_pull_requests',
  categories: [DOMAIN_CATEGORIES.changeset],
  migrations: (schema) => {
    assertIdentifier('schema', schema);
    return [
      {
        version: 1,
        name: 'tracked pull requests',
        sql: `
CREATE TABLE ${schema}.${TRACKED_PULL_REQUESTS_TABLE} (
  repository text NOT NULL,
  number integer NOT NULL,
  changeset_id text NOT NULL,
  campaign text NOT NULL,
  head_branch text NOT NULL,
  head_ref_oid text,
  PRIMARY KEY (repository, number)
);
CREATE INDEX ${TRACKED_PULL_REQUESTS_TABLE}_head ON ${schema}.${TRACKED_PULL_REQUESTS_TABLE} (repository, head_ref_oid);`,
      },
    ];
  },
  tables: [{ name: TRACKED_PULL_REQUESTS_TABLE, key: ['repository', 'number'] }],
  // The batch's facts are folded per pull request (the latest event wins, the latest head commit
  // named is kept) and written in one statement.
  async handle(events: readonly StoredEvent[], { tx, schema }) {
    const latest = new Map<string, ChangesetFacts & { head: string | null }>();
    for (const event of events) {
      const facts = factsOf(event);
      if (facts === null) continue;
      const key = `${facts.repository}#${facts.number}`;
      const head = facts.headRefOid ?? facts.commitSha ?? latest.get(key)?.head ?? null;
      latest.set(key, { ...facts, head });
    }
    if (latest.size > 0) await upsert(tx, schema, [...latest.values()]);
  },
};

function factsOf(event: StoredEvent): ChangesetFacts | null {
  switch (event.type) {
    case 'ChangesetPublished':
    case 'ChangesetUpdated':
    case 'ChangesetClosed':
    case 'ChangesetObserved': {
      const data = event.data as ChangesetFacts;
      return typeof data.number === 'number' ? data : null;
    }
    default:
      return null;
  }
}

async function upsert(
  tx: PoolClient,
  schema: string,
  facts: readonly (ChangesetFacts & { head: string | null })[],
): Promise<void> {
  await tx.query(
    `INSERT INTO ${schema}.${TRACKED_PULL_REQUESTS_TABLE} AS t
       (repository, number, changeset_id, campaign, head_branch, head_ref_oid)
     SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[])
     ON CONFLICT (repository, number) DO UPDATE SET
       changeset_id = EXCLUDED.changeset_id,
       campaign = EXCLUDED.campaign,
       head_branch = EXCLUDED.head_branch,
       head_ref_oid = COALESCE(EXCLUDED.head_ref_oid, t.head_ref_oid)`,
    [
      facts.map((f) => f.repository),
      facts.map((f) => f.number),
      facts.map((f) => f.changesetId),
      facts.map((f) => f.campaign),
      facts.map((f) => f.headBranch),
      facts.map((f) => f.head),
    ],
  );
}
