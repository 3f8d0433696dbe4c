// Every statement of the status projection: its tables, the campaign and dead-letter events it
// applies one statement each, and the batch read and write-back of execution and changeset rows
// (how events change those is `status-evolve.ts`).
import type {
  ConsumerDeadLettered,
  EntityClass,
  EventData,
  Migration,
  SpecApplied,
  CampaignClosed,
  CampaignDeleted,
  StoredEvent,
  WorkspaceResolutionFailed,
  WorkspacesResolved,
} from '@campaigns/events';
import type { EntityManager } from 'typeorm';
import { StatusCampaign } from './status-campaign.entity.js';
import { StatusChangeset } from './status-changeset.entity.js';
import { StatusDeadLetter } from './status-dead-letter.entity.js';
import { Rows, type StatusChangesetRow, type StatusExecutionRow } from './status-evolve.js';
import { StatusExecution } from './status-execution.entity.js';

export function statusMigrations(schema: string): Migration[] {
  return [
    {
      version: 1,
      name: 'campaign, execution and changeset status',
      sql: `
CREATE TABLE ${schema}.status_campaigns (
  campaign text PRIMARY KEY,
  apply_id uuid NOT NULL,
  spec_hash text NOT NULL,
  actor text NOT NULL,
  applied_at timestamptz NOT NULL,
  resolved boolean NOT NULL,
  resolution_error text,
  problems jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE ${schema}.status_executions (
  execution_id text PRIMARY KEY,
  campaign text NOT NULL,
  apply_id uuid NOT NULL,
  repository text NOT NULL,
  path text NOT NULL,
  state text NOT NULL,
  message text,
  stderr_tail text,
  updated_at timestamptz NOT NULL
);
CREATE INDEX ON ${schema}.status_executions (campaign, apply_id);
CREATE TABLE ${schema}.status_changesets (
  changeset_id text PRIMARY KEY,
  campaign text NOT NULL,
  repository text NOT NULL,
  head_branch text NOT NULL,
  wanted boolean NOT NULL,
  published text NOT NULL,
  spec_event_id uuid NOT NULL,
  reconciled_spec_event_id uuid,
  host_state text,
  draft boolean NOT NULL,
  checks text,
  review text,
  url text,
  number integer,
  last_error text,
  error_terminal boolean NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX ON ${schema}.status_changesets (campaign);`,
    },
    {
      version: 2,
      name: 'pages in key order, and the events consumers gave up on',
      // Pages are read in (repository, head branch / path) order from these indexes; the
      // older ones are their prefixes.
      sql: `
DROP INDEX ${schema}.status_executions_campaign_apply_id_idx;
CREATE INDEX status_executions_page ON ${schema}.status_executions (campaign, apply_id, repository, path);
DROP INDEX ${schema}.status_changesets_campaign_idx;
CREATE INDEX status_changesets_page ON ${schema}.status_changesets (campaign, repository, head_branch);
CREATE TABLE ${schema}.status_dead_letters (
  event_id uuid PRIMARY KEY,
  campaign text NOT NULL,
  apply_id uuid,
  consumer text NOT NULL,
  dead_event_id uuid NOT NULL,
  dead_event_type text NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  recorded_at timestamptz NOT NULL
);
CREATE INDEX ON ${schema}.status_dead_letters (campaign, apply_id, recorded_at);`,
    },
    {
      version: 3,
      name: 'how many workspaces an application resolved to',
      // A batch of the projection can end between `WorkspacesResolved` and its
      // `ExecutionQueued` events; counting rows alone, status then read "0 of 0 executed" and
      // called the campaign complete. Rows written before this column existed are backfilled
      // from their executions, which were recorded in the same transaction as the count.
      sql: `
ALTER TABLE ${schema}.status_campaigns ADD COLUMN workspace_count integer;
UPDATE ${schema}.status_campaigns c
   SET workspace_count = (SELECT count(*) FROM ${schema}.status_executions e
                           WHERE e.campaign = c.campaign AND e.apply_id = c.apply_id)
 WHERE c.resolved AND c.resolution_error IS NULL;`,
    },
    {
      version: 4,
      name: "each changeset's workspace path",
      // NULL for changesets computed before ChangesetSpecComputed carried the path: unknown.
      sql: `ALTER TABLE ${schema}.status_changesets ADD COLUMN workspace_path text;`,
    },
    {
      version: 5,
      name: "each execution's branch",
      // Several `branches:` of one repository are executions of their own. NULL for rows
      // projected before (a replay of the log fills it in).
      sql: `ALTER TABLE ${schema}.status_executions ADD COLUMN branch text;`,
    },
    {
      version: 6,
      name: 'closed campaigns',
      sql: `ALTER TABLE ${schema}.status_campaigns ADD COLUMN closed_at timestamptz,
  ADD COLUMN closed_by text;`,
    },
    {
      version: 7,
      name: 'changesets scheduled for publication',
      // ISO 8601 of the expected publication, '' when none is expected within a week, NULL
      // when not waiting for a slot.
      sql: `ALTER TABLE ${schema}.status_changesets ADD COLUMN scheduled_for text;`,
    },
    {
      version: 8,
      name: "each changeset's title, base branch and diff",
      // From its ChangesetSpecComputed, for `campaign status -o wide`: NULL for imported
      // changesets and for rows projected before (a replay of the log fills them in).
      sql: `ALTER TABLE ${schema}.status_changesets ADD COLUMN title text,
  ADD COLUMN base_branch text,
  ADD COLUMN files_changed integer,
  ADD COLUMN diff_sha256 text;`,
    },
  ];
}

/** The entities of the `status_*` tables. */
export const STATUS_ENTITIES: readonly EntityClass[] = [
  StatusCampaign,
  StatusExecution,
  StatusChangeset,
  StatusDeadLetter,
];

export const STATUS_TABLES = [
  { name: 'status_campaigns', key: ['campaign'] },
  { name: 'status_executions', key: ['execution_id'] },
  { name: 'status_changesets', key: ['changeset_id'] },
  { name: 'status_dead_letters', key: ['event_id'] },
] as const;

/** Campaign and dead-letter events: one statement each. */
export async function applyCampaignEvent(manager: EntityManager, e: StoredEvent): Promise<void> {
  const at = e.recorded_at;
  switch (e.type) {
    case 'SpecApplied': {
      const d = e.data as EventData<typeof SpecApplied>;
      // A new application replaces the campaign's row whole: unresolved, with no count yet.
      await manager
        .createQueryBuilder()
        .insert()
        .into(StatusCampaign)
        .values({
          campaign: d.campaign,
          applyId: d.applyId,
          specHash: d.specHash,
          actor: d.actor,
          appliedAt: at,
          resolved: false,
          resolutionError: null,
          problems: [],
          workspaceCount: null,
          closedAt: null,
          closedBy: null,
          updatedAt: at,
        })
        .orUpdate(
          [
            'apply_id',
            'spec_hash',
            'actor',
            'applied_at',
            'resolved',
            'resolution_error',
            'problems',
            'workspace_count',
            'closed_at',
            'closed_by',
            'updated_at',
          ],
          ['campaign'],
        )
        .updateEntity(false)
        .execute();
      return;
    }
    case 'WorkspacesResolved': {
      const d = e.data as EventData<typeof WorkspacesResolved>;
      const problems =
        d.problemsOmitted === 0
          ? d.problems
          : [
              ...d.problems,
              { entry: 'on', message: `${d.problemsOmitted} more problems are not recorded` },
            ];
      await manager
        .createQueryBuilder()
        .update(StatusCampaign)
        .set({ resolved: true, problems, workspaceCount: d.workspaceCount, updatedAt: at })
        .where({ campaign: d.campaign, applyId: d.applyId })
        .updateEntity(false)
        .execute();
      return;
    }
    case 'CampaignClosed': {
      const d = e.data as EventData<typeof CampaignClosed>;
      await manager
        .createQueryBuilder()
        .update(StatusCampaign)
        .set({ closedAt: at, closedBy: d.actor, updatedAt: at })
        .where({ campaign: d.campaign })
        .updateEntity(false)
        .execute();
      return;
    }
    case 'CampaignDeleted': {
      // Its rows go (the log keeps its history); its executions' and changesets' rows went just
      // before (`forgetCampaign`).
      const d = e.data as EventData<typeof CampaignDeleted>;
      for (const entity of [StatusCampaign, StatusDeadLetter])
        await manager
          .createQueryBuilder()
          .delete()
          .from(entity)
          .where({ campaign: d.campaign })
          .execute();
      return;
    }
    case 'WorkspaceResolutionFailed': {
      const d = e.data as EventData<typeof WorkspaceResolutionFailed>;
      await manager
        .createQueryBuilder()
        .update(StatusCampaign)
        .set({ resolved: true, resolutionError: d.message, updatedAt: at })
        .where({ campaign: d.campaign, applyId: d.applyId })
        .updateEntity(false)
        .execute();
      return;
    }
    case 'ConsumerDeadLettered': {
      const d = e.data as EventData<typeof ConsumerDeadLettered>;
      // Only a campaign's own stage stops; a dead letter naming no campaign is not anyone's status.
      if (d.campaign === undefined) return;
      // It belongs to the application current when it was recorded: the next apply starts afresh.
      const current = manager
        .createQueryBuilder(StatusCampaign, 'c')
        .select('c.apply_id')
        .where('c.campaign = :campaign')
        .getQuery();
      await manager
        .createQueryBuilder()
        .insert()
        .into(StatusDeadLetter)
        .values({
          eventId: e.event_id,
          campaign: d.campaign,
          applyId: () => `(${current})`,
          consumer: d.consumer,
          deadEventId: d.eventId,
          deadEventType: d.eventType,
          error: d.error,
          attempts: d.attempts,
          recordedAt: at,
        })
        .setParameter('campaign', d.campaign)
        .orIgnore()
        .updateEntity(false)
        .execute();
      return;
    }
  }
}

/** One of the tables whose rows a batch reads once and writes back. */
export interface RowTable<R> {
  name: string;
  entity: EntityClass;
  /** The key first. */
  columns: readonly (keyof R & string)[];
}

export const EXECUTIONS: RowTable<StatusExecutionRow> = {
  name: 'status_executions',
  entity: StatusExecution,
  columns: [
    'execution_id',
    'campaign',
    'apply_id',
    'repository',
    'branch',
    'path',
    'state',
    'message',
    'stderr_tail',
    'updated_at',
  ],
};

export const CHANGESETS: RowTable<StatusChangesetRow> = {
  name: 'status_changesets',
  entity: StatusChangeset,
  columns: [
    'changeset_id',
    'campaign',
    'repository',
    'head_branch',
    'workspace_path',
    'wanted',
    'published',
    'spec_event_id',
    'reconciled_spec_event_id',
    'host_state',
    'draft',
    'checks',
    'review',
    'url',
    'number',
    'last_error',
    'error_terminal',
    'scheduled_for',
    'title',
    'base_branch',
    'files_changed',
    'diff_sha256',
    'updated_at',
  ],
};

/** The rows of these keys, read as `R` (each column under its own name), not as entities. */
export async function loadRows<R>(
  manager: EntityManager,
  table: RowTable<R>,
  keys: readonly string[],
): Promise<Rows<R>> {
  if (keys.length === 0) return new Rows<R>([]);
  const key = table.columns[0]!;
  // Raw rows, as getRawMany gave them, without building the statement on every batch (the
  // QueryBuilder spent ~1 ms a call on it; this runs for every batch of execution and changeset
  // events). The table is the entity's, in the connection's search_path.
  const rows = (await manager.query(
    `SELECT ${table.columns.join(', ')} FROM ${table.name} WHERE ${key} = ANY ($1::text[])`,
    [keys],
  )) as (R & Record<string, unknown>)[];
  return new Rows(rows.map((r) => [r[key] as string, r]));
}

/**
 * Upserts the changed rows, 1,000 per statement (a parameter per column each). Raw: the
 * QueryBuilder's multi-row insert takes ~30 times as long to build as this statement (~85 ms per
 * 1,000 rows, measured), on the path every execution and changeset event takes.
 */
export async function saveRows<R>(
  manager: EntityManager,
  schema: string,
  table: RowTable<R>,
  batch: Rows<R>,
): Promise<void> {
  const rows = batch.written();
  const [key, ...rest] = table.columns;
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      const first = values.length;
      for (const c of table.columns) values.push(row[c]);
      return `(${table.columns.map((_, k) => `$${first + k + 1}`).join(', ')})`;
    });
    await manager.query(
      `INSERT INTO ${schema}.${table.name} (${table.columns.join(', ')})
       VALUES ${tuples.join(', ')}
       ON CONFLICT (${key}) DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
      values,
    );
  }
}

/** The execution and changeset rows of a deleted campaign (its campaign row goes with the event). */
export async function forgetCampaign(manager: EntityManager, campaign: string): Promise<void> {
  for (const entity of [StatusExecution, StatusChangeset])
    await manager.createQueryBuilder().delete().from(entity).where({ campaign }).execute();
}
