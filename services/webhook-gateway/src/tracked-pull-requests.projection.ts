import {
  assertIdentifier,
  DOMAIN_CATEGORIES,
  type ProjectionDefinition,
  type StoredEvent,
} from '@campaigns/events';
import type { EntityManager } from 'typeorm';
import { TrackedPullRequestEntity } from './tracked-pull-request.entity.js';

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
  /** What the events say the pull request shows now, where they said it (null: not known). */
  url: string | null;
  title: string | null;
  state: string | null;
  draft: boolean | null;
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

/** A tracked pull request as one batch of events leaves it; null fields were not named. */
interface Folded {
  /** Whether an event of the batch may start tracking it (else only a tracked row is updated). */
  creates: boolean;
  repository: string;
  number: number;
  changesetId: string;
  campaign: string;
  headBranch: string;
  head: string | null;
  url: string | null;
  title: string | null;
  state: string | null;
  draft: boolean | null;
}

/**
 * (repository, number) → changeset, from every changeset event that names a pull request number:
 * ChangesetPublished, ChangesetUpdated (when it has one), ChangesetClosed and ChangesetObserved.
 * The head commit follows ChangesetPublished, a push's commitSha and observations; url, title,
 * state and draft follow what each event says of them, so the recorder can tell a delivery that
 * only echoes what the events already say (the reconciler's own edit coming back) from news.
 */
export const trackedPullRequestsProjection: ProjectionDefinition = {
  name: 'tracked_pull_requests',
  categories: [DOMAIN_CATEGORIES.changeset],
  entities: [TrackedPullRequestEntity],
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
      {
        version: 2,
        name: 'what the events say each tracked pull request shows',
        // Rows from before stay unknown (null) until their next event: nothing is skipped for them.
        sql: `
ALTER TABLE ${schema}.${TRACKED_PULL_REQUESTS_TABLE}
  ADD COLUMN url text, ADD COLUMN title text, ADD COLUMN state text, ADD COLUMN draft boolean;`,
      },
    ];
  },
  tables: [{ name: TRACKED_PULL_REQUESTS_TABLE, key: ['repository', 'number'] }],
  // The batch's facts are folded per pull request (the latest event wins, the latest head commit
  // named is kept) and written in one statement.
  async handle(events: readonly StoredEvent[], { manager, schema }) {
    const latest = new Map<string, Folded>();
    // Detached (an import no longer listed): its deliveries are nobody's any more.
    const detached = new Set<string>();
    for (const event of events) {
      if (isDetach(event)) {
        const id = (event.data as { changesetId: string }).changesetId;
        detached.add(id);
        for (const [key, f] of latest) if (f.changesetId === id) latest.delete(key);
        continue;
      }
      const facts = factsOf(event);
      if (facts === null) continue;
      const key = `${facts.repository}#${facts.number}`;
      // A webhook's observation was recorded because the pull request was tracked when it came:
      // it may say what the pull request shows, but never starts tracking it again. (One that
      // raced a detach — recorded just before the detach reached this table — would otherwise
      // bring a detached changeset's deliveries back.)
      const creates = !fromWebhook(event);
      if (creates) detached.delete(facts.changesetId);
      const before = latest.get(key);
      const shown = shownBy(event);
      latest.set(key, {
        creates: creates || (before?.creates ?? false),
        repository: facts.repository,
        number: facts.number as number,
        changesetId: facts.changesetId,
        campaign: facts.campaign,
        headBranch: facts.headBranch,
        head: facts.headRefOid ?? facts.commitSha ?? before?.head ?? null,
        url: shown.url ?? before?.url ?? null,
        title: shown.title ?? before?.title ?? null,
        state: shown.state ?? before?.state ?? null,
        draft: shown.draft ?? before?.draft ?? null,
      });
    }
    if (detached.size > 0)
      await manager.query(
        `DELETE FROM ${schema}.${TRACKED_PULL_REQUESTS_TABLE} WHERE changeset_id = ANY($1::text[])`,
        [[...detached]],
      );
    const folded = [...latest.values()];
    const created = folded.filter((f) => f.creates);
    const updated = folded.filter((f) => !f.creates);
    if (created.length > 0) await upsert(manager, schema, created);
    if (updated.length > 0) await update(manager, schema, updated);
  },
};

function fromWebhook(event: StoredEvent): boolean {
  return (
    event.type === 'ChangesetObserved' && (event.data as { source?: unknown }).source === 'webhook'
  );
}

/** A reconcile that detached the changeset: the campaign no longer tracks its pull request. */
function isDetach(event: StoredEvent): boolean {
  if (event.type !== 'ChangesetReconciled') return false;
  const operations = (event.data as { operations?: unknown }).operations;
  return Array.isArray(operations) && operations.includes('detach');
}

/** What an event says the pull request shows: only the fields it names. */
function shownBy(event: StoredEvent): {
  url?: string;
  title?: string;
  state?: string;
  draft?: boolean;
} {
  const data = event.data as Record<string, unknown>;
  const text = (name: string) => (typeof data[name] === 'string' ? data[name] : undefined);
  const flag = (name: string) => (typeof data[name] === 'boolean' ? data[name] : undefined);
  switch (event.type) {
    case 'ChangesetPublished':
      return { url: text('url'), title: text('title'), state: 'open', draft: flag('draft') };
    case 'ChangesetUpdated':
      switch (data['operation']) {
        case 'update':
          return { title: text('title') };
        case 'undraft':
          return { draft: false };
        case 'reopen':
          return { state: 'open' };
        case 'merge':
          return { state: 'merged' };
        default:
          return {};
      }
    case 'ChangesetClosed':
      return { url: text('url'), state: 'closed' };
    case 'ChangesetObserved':
      return { url: text('url'), title: text('title'), state: text('state'), draft: flag('draft') };
    default:
      return {};
  }
}

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

/** The batch's rows as one unnest of ten arrays ($1 … $10), in the table's column order. */
const UNNESTED = `unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::boolean[])
                  AS u(repository, number, changeset_id, campaign, head_branch, head_ref_oid, url,
                       title, state, draft)`;

/** Raw: one set-based INSERT … SELECT unnest for the batch, which the QueryBuilder cannot express. */
async function upsert(
  manager: EntityManager,
  schema: string,
  facts: readonly Folded[],
): Promise<void> {
  await manager.query(
    `INSERT INTO ${schema}.${TRACKED_PULL_REQUESTS_TABLE} AS t
       (repository, number, changeset_id, campaign, head_branch, head_ref_oid, url, title, state, draft)
     SELECT * FROM ${UNNESTED}
     ON CONFLICT (repository, number) DO UPDATE SET
       changeset_id = EXCLUDED.changeset_id,
       campaign = EXCLUDED.campaign,
       head_branch = EXCLUDED.head_branch,
       head_ref_oid = COALESCE(EXCLUDED.head_ref_oid, t.head_ref_oid),
       url = COALESCE(EXCLUDED.url, t.url),
       title = COALESCE(EXCLUDED.title, t.title),
       state = COALESCE(EXCLUDED.state, t.state),
       draft = COALESCE(EXCLUDED.draft, t.draft)`,
    columnsOf(facts),
  );
}

/** What webhooks observed of pull requests still tracked (by the same changeset); none created. */
async function update(
  manager: EntityManager,
  schema: string,
  facts: readonly Folded[],
): Promise<void> {
  await manager.query(
    `UPDATE ${schema}.${TRACKED_PULL_REQUESTS_TABLE} AS t SET
       head_ref_oid = COALESCE(u.head_ref_oid, t.head_ref_oid),
       url = COALESCE(u.url, t.url),
       title = COALESCE(u.title, t.title),
       state = COALESCE(u.state, t.state),
       draft = COALESCE(u.draft, t.draft)
     FROM ${UNNESTED}
     WHERE t.repository = u.repository AND t.number = u.number AND t.changeset_id = u.changeset_id`,
    columnsOf(facts),
  );
}

function columnsOf(facts: readonly Folded[]): unknown[] {
  return [
    facts.map((f) => f.repository),
    facts.map((f) => f.number),
    facts.map((f) => f.changesetId),
    facts.map((f) => f.campaign),
    facts.map((f) => f.headBranch),
    facts.map((f) => f.head),
    facts.map((f) => f.url),
    facts.map((f) => f.title),
    facts.map((f) => f.state),
    facts.map((f) => f.draft),
  ];
}
