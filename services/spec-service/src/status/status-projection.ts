import type {
  ChangesetClosed,
  ChangesetRenderFailed,
  ChangesetObserved,
  ChangesetPublished,
  ChangesetReconciled,
  ChangesetSpecComputed,
  ChangesetUpdated,
  EventData,
  ExecutionFailed,
  ExecutionQueued,
  ExecutionStarted,
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
 * The status read model behind `get` and `list`: one row per campaign (its current application),
 * per execution and per changeset. Deterministic (times are `recorded_at`), so replay can rebuild
 * it and compare. Rows hold facts; what they mean (a changeset's displayed state, whether it
 * converged, the campaign's phase) is derived when read, in `campaign-status.ts`.
 */
export function statusProjection(): ProjectionDefinition {
  return {
    name: STATUS_PROJECTION_NAME,
    categories: ['campaign', 'execution', 'changeset'],
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
    ],
    tables: [
      { name: 'status_campaigns', key: ['campaign'] },
      { name: 'status_executions', key: ['execution_id'] },
      { name: 'status_changesets', key: ['changeset_id'] },
    ],
    // Changeset events (most of a busy log: observations) work on rows read once per batch and
    // written back in one statement; the few campaign and execution events are applied as they
    // come. The two touch disjoint tables, so order between them does not matter.
    async handle(events, { tx, schema }) {
      const changesetEvents = events.filter((e) => categoryOf(e.stream_id) === 'changeset');
      const rows = await loadStatusChangesetRows(tx, schema, [
        ...new Set(changesetEvents.map((e) => (e.data as { changesetId: string }).changesetId)),
      ]);
      for (const e of events) {
        if (categoryOf(e.stream_id) === 'changeset') applyToChangeset(rows, e);
        else await apply(tx, schema, e);
      }
      await saveStatusChangesetRows(tx, schema, [...rows.values()]);
    },
  };
}

const FINISHED = `('succeeded', 'empty', 'failed')`;

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
           resolution_error = NULL, problems = '[]', updated_at = EXCLUDED.updated_at`,
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
        `UPDATE ${schema}.status_campaigns SET resolved = true, problems = $3, updated_at = $4
          WHERE campaign = $1 AND apply_id = $2`,
        [d.campaign, d.applyId, JSON.stringify(problems), at],
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
    case 'ExecutionQueued': {
      const d = e.data as EventData<typeof ExecutionQueued>;
      await tx.query(
        `INSERT INTO ${schema}.status_executions
           (execution_id, campaign, apply_id, repository, path, state, message, stderr_tail, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', NULL, NULL, $6) ON CONFLICT (execution_id) DO NOTHING`,
        [d.executionId, d.campaign, d.applyId, d.workspace.repository, d.workspace.path, at],
      );
      return;
    }
    case 'ExecutionStarted': {
      const d = e.data as EventData<typeof ExecutionStarted>;
      // A late or repeated start never hides a result already recorded.
      await tx.query(
        `UPDATE ${schema}.status_executions SET state = 'running', updated_at = $2
          WHERE execution_id = $1 AND state NOT IN ${FINISHED}`,
        [d.executionId, at],
      );
      return;
    }
    case 'PatchComputed': {
      const d = e.data as EventData<typeof PatchComputed>;
      await tx.query(
        `UPDATE ${schema}.status_executions SET state = $2, message = NULL, stderr_tail = NULL, updated_at = $3
          WHERE execution_id = $1`,
        [d.executionId, d.empty ? 'empty' : 'succeeded', at],
      );
      return;
    }
    case 'ChangesetRenderFailed': {
      const d = e.data as EventData<typeof ChangesetRenderFailed>;
      await tx.query(
        `UPDATE ${schema}.status_executions SET state = 'failed', message = $2, stderr_tail = NULL, updated_at = $3
          WHERE execution_id = $1`,
        [d.executionId, `rendering the changeset template failed: ${d.message}`, at],
      );
      return;
    }
    case 'ExecutionFailed': {
      const d = e.data as EventData<typeof ExecutionFailed>;
      await tx.query(
        `UPDATE ${schema}.status_executions SET state = 'failed', message = $2, stderr_tail = $3, updated_at = $4
          WHERE execution_id = $1`,
        [d.executionId, d.message, d.stderrTail === '' ? null : d.stderrTail, at],
      );
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

const CHANGESET_ROW_COLUMNS: readonly (keyof StatusChangesetRow)[] = [
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
];

async function loadStatusChangesetRows(
  tx: PoolClient,
  schema: string,
  ids: readonly string[],
): Promise<Map<string, StatusChangesetRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await tx.query<StatusChangesetRow>(
    `SELECT ${CHANGESET_ROW_COLUMNS.join(', ')} FROM ${schema}.status_changesets
      WHERE changeset_id = ANY($1::text[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.changeset_id, r]));
}

/** Upserts rows, 1,000 per statement (17 parameters each). */
async function saveStatusChangesetRows(
  tx: PoolClient,
  schema: string,
  rows: readonly StatusChangesetRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      const first = values.length;
      for (const c of CHANGESET_ROW_COLUMNS) values.push(row[c]);
      return `(${CHANGESET_ROW_COLUMNS.map((_, k) => `$${first + k + 1}`).join(', ')})`;
    });
    await tx.query(
      `INSERT INTO ${schema}.status_changesets (${CHANGESET_ROW_COLUMNS.join(', ')})
       VALUES ${tuples.join(', ')}
       ON CONFLICT (changeset_id) DO UPDATE SET ${CHANGESET_ROW_COLUMNS.slice(1)
         .map((c) => `${c} = EXCLUDED.${c}`)
         .join(', ')}`,
      values,
    );
  }
}

/** Applies one changeset event to the batch's rows; events about a row not created yet do nothing. */
function applyToChangeset(rows: Map<string, StatusChangesetRow>, e: StoredEvent): void {
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
  const row = rows.get(id);
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
