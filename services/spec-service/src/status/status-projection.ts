import type {
  ChangesetClosed,
  ChangesetRenderFailed,
  ChangesetObserved,
  ChangesetPublished,
  ChangesetReconciled,
  ChangesetSpecComputed,
  ChangesetUpdated,
  ConsumerDeadLettered,
  EventData,
  ExecutionFailed,
  ExecutionQueued,
  PatchComputed,
  ProjectionDefinition,
  ReconcileFailed,
  SpecApplied,
  StoredEvent,
  WorkspaceResolutionFailed,
  WorkspacesResolved,
} from '@campaigns/events';
import { categoryOf } from '@campaigns/events';
import type { PoolClient } from 'pg';

export const STATUS_PROJECTION_NAME = 'status';

/**
 * The status read model behind `get`, `changesets`, `executions` and `list`: one row per campaign
 * (its current application), per execution, per changeset and per event a consumer gave up on.
 * Deterministic (times are `recorded_at`), so replay can rebuild it and compare. Rows hold facts;
 * what they mean (a changeset's displayed state, whether it converged, the campaign's phase) is
 * derived when read, in `campaign-status.ts`.
 */
export function statusProjection(): ProjectionDefinition {
  return {
    name: STATUS_PROJECTION_NAME,
    categories: ['campaign', 'execution', 'changeset', 'deadletter'],
    migrations: (schema) => [
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
    ],
    tables: [
      { name: 'status_campaigns', key: ['campaign'] },
      { name: 'status_executions', key: ['execution_id'] },
      { name: 'status_changesets', key: ['changeset_id'] },
      { name: 'status_dead_letters', key: ['event_id'] },
    ],
    // Execution and changeset events (nearly all of a busy log) work on rows read once per batch
    // and written back in a few statements; the few campaign and dead-letter events are applied
    // as they come. Each kind has its own tables, so order between kinds does not matter.
    async handle(events, { tx, schema }) {
      const idsOf = (category: string, field: 'executionId' | 'changesetId') => [
        ...new Set(
          events
            .filter((e) => categoryOf(e.stream_id) === category)
            .map((e) => (e.data as Record<typeof field, string>)[field]),
        ),
      ];
      const executions = await loadRows(tx, schema, EXECUTIONS, idsOf('execution', 'executionId'));
      const changesets = await loadRows(tx, schema, CHANGESETS, idsOf('changeset', 'changesetId'));
      for (const e of events) {
        const category = categoryOf(e.stream_id);
        if (category === 'execution') applyToExecution(executions, e);
        else if (category === 'changeset') applyToChangeset(changesets, e);
        else await apply(tx, schema, e);
      }
      await saveRows(tx, schema, EXECUTIONS, executions);
      await saveRows(tx, schema, CHANGESETS, changesets);
    },
  };
}

const FINISHED: readonly string[] = ['succeeded', 'empty', 'failed'];

/** Campaign and dead-letter events: one statement each. */
async function apply(tx: PoolClient, schema: string, e: StoredEvent): Promise<void> {
  const at = e.recorded_at;
  switch (e.type) {
    case 'SpecApplied': {
      const d = e.data as EventData<typeof SpecApplied>;
      await tx.query(
        `INSERT INTO ${schema}.status_campaigns
           (campaign, apply_id, spec_hash, actor, applied_at, resolved, resolution_error, problems, updated_at)
         VALUES ($1, $2, $3, $4, $5, false, NULL, '[]', $5)
         ON CONFLICT (campaign) DO UPDATE SET apply_id = EXCLUDED.apply_id, spec_hash = EXCLUDED.spec_hash,
           actor = EXCLUDED.actor, applied_at = EXCLUDED.applied_at, resolved = false,
           resolution_error = NULL, problems = '[]', workspace_count = NULL,
           updated_at = EXCLUDED.updated_at`,
        [d.campaign, d.applyId, d.specHash, d.actor, at],
      );
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
      await tx.query(
        `UPDATE ${schema}.status_campaigns
            SET resolved = true, problems = $3, workspace_count = $5, updated_at = $4
          WHERE campaign = $1 AND apply_id = $2`,
        [d.campaign, d.applyId, JSON.stringify(problems), at, d.workspaceCount],
      );
      return;
    }
    case 'WorkspaceResolutionFailed': {
      const d = e.data as EventData<typeof WorkspaceResolutionFailed>;
      await tx.query(
        `UPDATE ${schema}.status_campaigns SET resolved = true, resolution_error = $3, updated_at = $4
          WHERE campaign = $1 AND apply_id = $2`,
        [d.campaign, d.applyId, d.message, at],
      );
      return;
    }
    case 'ConsumerDeadLettered': {
      const d = e.data as EventData<typeof ConsumerDeadLettered>;
      // Only a campaign's own stage stops; a dead letter naming no campaign is not anyone's status.
      if (d.campaign === undefined) return;
      // It belongs to the application current when it was recorded: the next apply starts afresh.
      await tx.query(
        `INSERT INTO ${schema}.status_dead_letters
           (event_id, campaign, apply_id, consumer, dead_event_id, dead_event_type, error, attempts, recorded_at)
         VALUES ($1, $2, (SELECT apply_id FROM ${schema}.status_campaigns WHERE campaign = $2),
                 $3, $4, $5, $6, $7, $8)
         ON CONFLICT (event_id) DO NOTHING`,
        [e.event_id, d.campaign, d.consumer, d.eventId, d.eventType, d.error, d.attempts, at],
      );
      return;
    }
  }
}

/** A row of `status_executions`, as read and written. */
export interface StatusExecutionRow {
  execution_id: string;
  campaign: string;
  apply_id: string;
  repository: string;
  path: string;
  state: 'queued' | 'running' | 'succeeded' | 'empty' | 'failed';
  message: string | null;
  stderr_tail: string | null;
  updated_at: Date;
}

/** Applies one execution event to the batch's rows; events about a row not created yet do nothing. */
function applyToExecution(rows: Rows<StatusExecutionRow>, e: StoredEvent): void {
  const at = e.recorded_at;
  const id = (e.data as { executionId: string }).executionId;
  if (e.type === 'ExecutionQueued') {
    const d = e.data as EventData<typeof ExecutionQueued>;
    if (rows.get(id) !== undefined) return;
    rows.set(id, {
      execution_id: id,
      campaign: d.campaign,
      apply_id: d.applyId,
      repository: d.workspace.repository,
      path: d.workspace.path,
      state: 'queued',
      message: null,
      stderr_tail: null,
      updated_at: at,
    });
    return;
  }
  const row = rows.get(id);
  if (row === undefined) return;
  switch (e.type) {
    case 'ExecutionStarted':
      // A late or repeated start never hides a result already recorded.
      if (FINISHED.includes(row.state)) return;
      Object.assign(rows.edit(id)!, { state: 'running', updated_at: at });
      return;
    case 'PatchComputed': {
      const d = e.data as EventData<typeof PatchComputed>;
      Object.assign(rows.edit(id)!, {
        state: d.empty ? 'empty' : 'succeeded',
        message: null,
        stderr_tail: null,
        updated_at: at,
      });
      return;
    }
    case 'ChangesetRenderFailed': {
      const d = e.data as EventData<typeof ChangesetRenderFailed>;
      Object.assign(rows.edit(id)!, {
        state: 'failed',
        message: `rendering the changeset template failed: ${d.message}`,
        stderr_tail: null,
        updated_at: at,
      });
      return;
    }
    case 'ExecutionFailed': {
      const d = e.data as EventData<typeof ExecutionFailed>;
      Object.assign(rows.edit(id)!, {
        state: 'failed',
        message: d.message,
        stderr_tail: d.stderrTail === '' ? null : d.stderrTail,
        updated_at: at,
      });
      return;
    }
  }
}

/** A row of `status_changesets`, as read and written. */
export interface StatusChangesetRow {
  changeset_id: string;
  campaign: string;
  repository: string;
  head_branch: string;
  wanted: boolean;
  published: string;
  spec_event_id: string;
  reconciled_spec_event_id: string | null;
  host_state: string | null;
  draft: boolean;
  checks: string | null;
  review: string | null;
  url: string | null;
  number: number | null;
  last_error: string | null;
  error_terminal: boolean;
  updated_at: Date;
}

/** One of the tables whose rows a batch reads once and writes back. */
interface RowTable<R> {
  name: string;
  /** The key first. */
  columns: readonly (keyof R & string)[];
}

const EXECUTIONS: RowTable<StatusExecutionRow> = {
  name: 'status_executions',
  columns: [
    'execution_id',
    'campaign',
    'apply_id',
    'repository',
    'path',
    'state',
    'message',
    'stderr_tail',
    'updated_at',
  ],
};

const CHANGESETS: RowTable<StatusChangesetRow> = {
  name: 'status_changesets',
  columns: [
    'changeset_id',
    'campaign',
    'repository',
    'head_branch',
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
    'updated_at',
  ],
};

/** A batch's rows by key; only the ones set are written back. */
class Rows<R> {
  private readonly rows: Map<string, R>;
  private readonly changed = new Set<string>();

  constructor(rows: Iterable<[string, R]>) {
    this.rows = new Map(rows);
  }

  get(key: string): R | undefined {
    return this.rows.get(key);
  }

  set(key: string, row: R): void {
    this.rows.set(key, row);
    this.changed.add(key);
  }

  /** The row, to be changed in place: it is written back. */
  edit(key: string): R | undefined {
    const row = this.rows.get(key);
    if (row !== undefined) this.changed.add(key);
    return row;
  }

  written(): R[] {
    return [...this.changed].map((k) => this.rows.get(k)!);
  }
}

async function loadRows<R>(
  tx: PoolClient,
  schema: string,
  table: RowTable<R>,
  keys: readonly string[],
): Promise<Rows<R>> {
  if (keys.length === 0) return new Rows<R>([]);
  const key = table.columns[0]!;
  const { rows } = await tx.query<R & Record<string, unknown>>(
    `SELECT ${table.columns.join(', ')} FROM ${schema}.${table.name} WHERE ${key} = ANY($1::text[])`,
    [keys],
  );
  return new Rows(rows.map((r) => [r[key] as string, r]));
}

/** Upserts the changed rows, 1,000 per statement (at most 17 parameters each). */
async function saveRows<R>(
  tx: PoolClient,
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
    await tx.query(
      `INSERT INTO ${schema}.${table.name} (${table.columns.join(', ')})
       VALUES ${tuples.join(', ')}
       ON CONFLICT (${key}) DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
      values,
    );
  }
}

/** Applies one changeset event to the batch's rows; events about a row not created yet do nothing. */
function applyToChangeset(rows: Rows<StatusChangesetRow>, e: StoredEvent): void {
  const at = e.recorded_at;
  const id = (e.data as { changesetId: string }).changesetId;
  if (e.type === 'ChangesetSpecComputed') {
    const d = e.data as EventData<typeof ChangesetSpecComputed>;
    const existing = rows.get(id);
    // A new desired state: earlier errors were about the old one.
    rows.set(id, {
      ...(existing ?? {
        changeset_id: id,
        campaign: d.campaign,
        repository: d.repository,
        head_branch: d.headBranch,
        reconciled_spec_event_id: null,
        host_state: null,
        draft: false,
        checks: null,
        review: null,
        url: null,
        number: null,
      }),
      wanted: true,
      published: String(d.spec.published),
      spec_event_id: e.event_id,
      last_error: null,
      error_terminal: false,
      updated_at: at,
    });
    return;
  }
  const row = rows.edit(id);
  if (row === undefined) return;
  switch (e.type) {
    case 'ChangesetSpecRemoved':
      Object.assign(row, {
        wanted: false,
        spec_event_id: e.event_id,
        last_error: null,
        error_terminal: false,
        updated_at: at,
      });
      return;
    case 'ChangesetPublished': {
      const d = e.data as EventData<typeof ChangesetPublished>;
      Object.assign(row, {
        host_state: d.draft ? 'draft' : 'open',
        draft: d.draft,
        number: d.number,
        url: d.url,
        updated_at: at,
      });
      return;
    }
    case 'ChangesetUpdated': {
      const d = e.data as EventData<typeof ChangesetUpdated>;
      if (d.number !== null) row.number = d.number;
      if (d.operation === 'undraft') Object.assign(row, { draft: false, host_state: 'open' });
      if (d.operation === 'convert-to-draft')
        Object.assign(row, { draft: true, host_state: 'draft' });
      if (d.operation === 'reopen') row.host_state = row.draft ? 'draft' : 'open';
      row.updated_at = at;
      return;
    }
    case 'ChangesetClosed': {
      const d = e.data as EventData<typeof ChangesetClosed>;
      Object.assign(row, { host_state: 'closed', number: d.number, url: d.url, updated_at: at });
      return;
    }
    case 'ChangesetObserved': {
      const d = e.data as EventData<typeof ChangesetObserved>;
      row.number = d.number;
      if (d.url !== undefined) row.url = d.url;
      if (d.draft !== undefined) row.draft = d.draft;
      if (d.checks !== undefined) row.checks = d.checks;
      if (d.reviewDecision !== undefined) row.review = d.reviewDecision;
      row.updated_at = at;
      // An open changeset shows as draft while it is one.
      if (d.state !== undefined)
        row.host_state = d.state === 'open' && row.draft ? 'draft' : d.state;
      return;
    }
    case 'ReconcileFailed': {
      const d = e.data as EventData<typeof ReconcileFailed>;
      // Only failures acting on the current desired state are shown; older ones are moot.
      if (row.spec_event_id !== d.specEventId) return;
      Object.assign(row, { last_error: d.message, error_terminal: !d.retryable, updated_at: at });
      return;
    }
    case 'ChangesetReconciled': {
      const d = e.data as EventData<typeof ChangesetReconciled>;
      if (row.spec_event_id !== d.specEventId) return;
      Object.assign(row, {
        reconciled_spec_event_id: d.specEventId,
        last_error: null,
        error_terminal: false,
        updated_at: at,
      });
      return;
    }
  }
}
