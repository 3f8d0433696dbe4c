// Every statement of the desired-state process manager's own tables (`pm_*`): their DDL, the
// reads that bring a batch's rows into a DesiredState, the write-back, and the savepoint that keeps
// an application's outcome all or nothing. The deciding is in `decide.ts`.
import type { EntityClass, Migration } from '@campaigns/events';
import type { PoolClient } from 'pg';
import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import {
  DesiredState,
  type ApplyRow,
  type CampaignRow,
  type ChangesetRow,
} from './desired-state.js';
import { PmApply } from './pm-apply.entity.js';
import { PmCampaign } from './pm-campaign.entity.js';
import { PmChangeset } from './pm-changeset.entity.js';
import { PmExecution } from './pm-execution.entity.js';

export function processManagerMigrations(schema: string): Migration[] {
  return [
    {
      version: 1,
      name: 'desired state process manager',
      sql: `
CREATE TABLE ${schema}.pm_campaigns (
  campaign text PRIMARY KEY,
  apply_id uuid NOT NULL,
  spec_event_id uuid NOT NULL,
  stream_version bigint NOT NULL
);
CREATE TABLE ${schema}.pm_applies (
  apply_id uuid PRIMARY KEY,
  campaign text NOT NULL,
  spec_hash text NOT NULL,
  spec_text text NOT NULL,
  file_name text NOT NULL,
  actor text NOT NULL,
  spec_event_id uuid NOT NULL
);
CREATE TABLE ${schema}.pm_changesets (
  changeset_id text PRIMARY KEY,
  campaign text NOT NULL,
  repository text NOT NULL,
  head_branch text NOT NULL,
  workspace_path text NOT NULL,
  removed boolean NOT NULL,
  spec jsonb,
  last_event_id uuid NOT NULL
);
CREATE INDEX ON ${schema}.pm_changesets (campaign, repository);
CREATE TABLE ${schema}.pm_executions (
  execution_id text PRIMARY KEY,
  campaign text NOT NULL,
  apply_id uuid NOT NULL,
  handled boolean NOT NULL DEFAULT false,
  render_error text
);`,
    },
    {
      version: 2,
      name: "the branch of a changeset's workspace",
      // A workspace is a repository, a branch and a path (several `branches:` of one repository
      // are workspaces of their own); a changeset's base branch is its workspace's branch.
      sql: `
ALTER TABLE ${schema}.pm_changesets ADD COLUMN workspace_branch text;
UPDATE ${schema}.pm_changesets SET workspace_branch = spec->>'baseRef';`,
    },
    {
      version: 3,
      name: 'changesets imported by number',
      // importChangesets: a pull request the campaign tracks, which no workspace renders.
      sql: `ALTER TABLE ${schema}.pm_changesets ADD COLUMN import_number integer;`,
    },
    {
      version: 4,
      name: 'closed campaigns',
      sql: `ALTER TABLE ${schema}.pm_campaigns ADD COLUMN closed boolean NOT NULL DEFAULT false;`,
    },
  ];
}

/** The entities of the `pm_*` tables. */
export const PROCESS_MANAGER_ENTITIES: readonly EntityClass[] = [
  PmCampaign,
  PmApply,
  PmChangeset,
  PmExecution,
];

export const PROCESS_MANAGER_TABLES = [
  { name: 'pm_campaigns', key: ['campaign'] },
  { name: 'pm_applies', key: ['apply_id'] },
  { name: 'pm_changesets', key: ['changeset_id'] },
  { name: 'pm_executions', key: ['execution_id'] },
] as const;

/** What one batch needs read: its campaigns, the applications and workspaces its patches name. */
export interface RowKeys {
  campaigns: readonly string[];
  applyIds: readonly string[];
  /** Applications whose spec text need not be read (their parsed spec is at hand). */
  withoutSpecText: ReadonlySet<string>;
  workspaces: readonly { campaign: string; repository: string }[];
}

const CHANGESET_COLUMNS = `changeset_id, campaign, repository, head_branch, workspace_branch, workspace_path, removed, spec, last_event_id, import_number`;

/** `pm_changesets c`, each column under its own name: rows as `ChangesetRow`, not entities. */
function selectChangesets(manager: EntityManager): SelectQueryBuilder<PmChangeset> {
  const qb = manager.createQueryBuilder(PmChangeset, 'c').select([]);
  for (const column of CHANGESET_COLUMNS.split(', ')) qb.addSelect(`c.${column}`, column);
  return qb;
}

/** Reads the rows one lane batch needs, one statement per table, into a new DesiredState. */
export async function loadDesiredState(
  manager: EntityManager,
  schema: string,
  keys: RowKeys,
): Promise<DesiredState> {
  const state = new DesiredState();
  if (keys.campaigns.length > 0) {
    const campaigns = await manager
      .createQueryBuilder(PmCampaign, 'c')
      .select('c.campaign', 'campaign')
      .addSelect('c.apply_id', 'apply_id')
      .addSelect('c.spec_event_id', 'spec_event_id')
      .addSelect('c.stream_version', 'stream_version')
      .addSelect('c.closed', 'closed')
      .where('c.campaign = ANY (:campaigns::text[])', { campaigns: keys.campaigns })
      .getRawMany<CampaignRow & { stream_version: string }>();
    for (const c of campaigns)
      state.rememberCampaign({ ...c, stream_version: BigInt(c.stream_version) });
  }
  if (keys.applyIds.length > 0) {
    const applies = await manager
      .createQueryBuilder(PmApply, 'a')
      .select('a.apply_id', 'apply_id')
      .addSelect('a.campaign', 'campaign')
      .addSelect('a.spec_hash', 'spec_hash')
      .addSelect('a.file_name', 'file_name')
      .addSelect('a.actor', 'actor')
      .addSelect('a.spec_event_id', 'spec_event_id')
      .addSelect(
        'CASE WHEN a.apply_id = ANY (:withoutText::uuid[]) THEN NULL ELSE a.spec_text END',
        'spec_text',
      )
      .where('a.apply_id = ANY (:applyIds::uuid[])', {
        applyIds: keys.applyIds,
        withoutText: [...keys.withoutSpecText],
      })
      .getRawMany<ApplyRow>();
    for (const a of applies) state.rememberApplication(a);
  }
  if (keys.workspaces.length > 0) {
    // Raw: a join with the batch's (campaign, repository) pairs as one unnest, which the
    // QueryBuilder cannot express.
    const changesets: ChangesetRow[] = await manager.query(
      `SELECT ${CHANGESET_COLUMNS} FROM ${schema}.pm_changesets c
         JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS k(campaign, repository)
           USING (campaign, repository)`,
      [keys.workspaces.map((w) => w.campaign), keys.workspaces.map((w) => w.repository)],
    );
    for (const c of changesets) state.rememberChangeset(c);
  }
  return state;
}

/** Reads the campaign's wanted changesets into `state`, unless it already holds them all. */
export async function loadWantedChangesets(
  manager: EntityManager,
  state: DesiredState,
  campaign: string,
): Promise<void> {
  if (state.hasWanted(campaign)) return;
  const rows = await selectChangesets(manager)
    .where('c.campaign = :campaign AND NOT c.removed', { campaign })
    .getRawMany<ChangesetRow>();
  state.rememberWanted(campaign, rows);
}

/**
 * Writes what the batch changed: one statement per table (arrays, so no parameter limit applies),
 * rows in key order (`DesiredState.written`). Raw: each is a set-based INSERT … SELECT FROM unnest
 * (a SpecApplied queues up to 100,000 executions), which the QueryBuilder cannot express.
 */
export async function saveDesiredState(
  manager: EntityManager,
  schema: string,
  state: DesiredState,
): Promise<void> {
  const written = state.written();
  if (written.applies.length > 0) {
    const a = written.applies;
    await manager.query(
      `INSERT INTO ${schema}.pm_applies (apply_id, campaign, spec_hash, spec_text, file_name, actor, spec_event_id)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[])
       ON CONFLICT (apply_id) DO NOTHING`,
      [
        a.map((r) => r.apply_id),
        a.map((r) => r.campaign),
        a.map((r) => r.spec_hash),
        a.map((r) => r.spec_text),
        a.map((r) => r.file_name),
        a.map((r) => r.actor),
        a.map((r) => r.spec_event_id),
      ],
    );
  }
  if (written.campaigns.length > 0) {
    const c = written.campaigns;
    await manager.query(
      `INSERT INTO ${schema}.pm_campaigns (campaign, apply_id, spec_event_id, stream_version, closed)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::bigint[], $5::boolean[])
       ON CONFLICT (campaign) DO UPDATE SET apply_id = EXCLUDED.apply_id,
         spec_event_id = EXCLUDED.spec_event_id, stream_version = EXCLUDED.stream_version,
         closed = EXCLUDED.closed
       WHERE ${schema}.pm_campaigns.stream_version < EXCLUDED.stream_version`,
      [
        c.map((r) => r.campaign),
        c.map((r) => r.apply_id),
        c.map((r) => r.spec_event_id),
        c.map((r) => r.stream_version.toString()),
        c.map((r) => r.closed),
      ],
    );
  }
  if (written.changesets.length > 0) {
    const c = written.changesets;
    await manager.query(
      `INSERT INTO ${schema}.pm_changesets (${CHANGESET_COLUMNS})
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                            $7::boolean[], $8::jsonb[], $9::uuid[], $10::integer[])
       ON CONFLICT (changeset_id) DO UPDATE SET removed = EXCLUDED.removed, spec = EXCLUDED.spec,
         workspace_branch = EXCLUDED.workspace_branch, workspace_path = EXCLUDED.workspace_path,
         last_event_id = EXCLUDED.last_event_id, import_number = EXCLUDED.import_number`,
      [
        c.map((r) => r.changeset_id),
        c.map((r) => r.campaign),
        c.map((r) => r.repository),
        c.map((r) => r.head_branch),
        c.map((r) => r.workspace_branch),
        c.map((r) => r.workspace_path),
        c.map((r) => r.removed),
        c.map((r) => (r.spec === null ? null : JSON.stringify(r.spec))),
        c.map((r) => r.last_event_id),
        c.map((r) => r.import_number),
      ],
    );
  }
  if (written.executions.length > 0) {
    const e = written.executions;
    await manager.query(
      `INSERT INTO ${schema}.pm_executions (execution_id, campaign, apply_id, handled, render_error)
       SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::boolean[], $5::text[])
       ON CONFLICT (execution_id) DO UPDATE SET handled = true, render_error = EXCLUDED.render_error
       WHERE EXCLUDED.handled`,
      [
        e.map((r) => r.execution_id),
        e.map((r) => r.campaign),
        e.map((r) => r.apply_id),
        e.map((r) => r.handled),
        e.map((r) => r.render_error),
      ],
    );
  }
}

/**
 * Runs `record` all or nothing inside the transaction: when it throws, what it wrote is rolled
 * back to where it began and the error is handed to `refused`, whose answer is returned (or which
 * throws again). The transaction itself stays usable.
 */
export async function withSavepoint<T>(
  tx: PoolClient,
  name: string,
  record: () => Promise<T>,
  refused: (err: unknown) => T,
): Promise<T> {
  await tx.query(`SAVEPOINT ${name}`);
  let result: T;
  try {
    result = await record();
  } catch (err) {
    const answer = refused(err);
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    return answer;
  }
  await tx.query(`RELEASE SAVEPOINT ${name}`);
  return result;
}
