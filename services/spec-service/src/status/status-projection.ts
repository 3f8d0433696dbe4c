import type {
  ChangesetClosed,
  ChangesetObserved,
  ChangesetPublished,
  ChangesetReconciled,
  ChangesetSpecComputed,
  ChangesetSpecRemoved,
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
    async handle(events, { tx, schema }) {
      for (const e of events) await apply(tx, schema, e);
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
      await tx.query(
        `UPDATE ${schema}.status_campaigns SET resolved = true, problems = $3, updated_at = $4
          WHERE campaign = $1 AND apply_id = $2`,
        [d.campaign, d.applyId, JSON.stringify(d.problems), at],
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
    case 'ExecutionFailed': {
      const d = e.data as EventData<typeof ExecutionFailed>;
      await tx.query(
        `UPDATE ${schema}.status_executions SET state = 'failed', message = $2, stderr_tail = $3, updated_at = $4
          WHERE execution_id = $1`,
        [d.executionId, d.message, d.stderrTail === '' ? null : d.stderrTail, at],
      );
      return;
    }
    case 'ChangesetSpecComputed': {
      const d = e.data as EventData<typeof ChangesetSpecComputed>;
      // A new desired state: earlier errors were about the old one.
      await tx.query(
        `INSERT INTO ${schema}.status_changesets
           (changeset_id, campaign, repository, head_branch, wanted, published, spec_event_id,
            reconciled_spec_event_id, host_state, draft, checks, review, url, number, last_error,
            error_terminal, updated_at)
         VALUES ($1, $2, $3, $4, true, $5, $6, NULL, NULL, false, NULL, NULL, NULL, NULL, NULL, false, $7)
         ON CONFLICT (changeset_id) DO UPDATE SET wanted = true, published = EXCLUDED.published,
           spec_event_id = EXCLUDED.spec_event_id, last_error = NULL, error_terminal = false,
           updated_at = EXCLUDED.updated_at`,
        [
          d.changesetId,
          d.campaign,
          d.repository,
          d.headBranch,
          String(d.spec.published),
          e.event_id,
          at,
        ],
      );
      return;
    }
    case 'ChangesetSpecRemoved': {
      const d = e.data as EventData<typeof ChangesetSpecRemoved>;
      await tx.query(
        `UPDATE ${schema}.status_changesets SET wanted = false, spec_event_id = $2, last_error = NULL,
           error_terminal = false, updated_at = $3
          WHERE changeset_id = $1`,
        [d.changesetId, e.event_id, at],
      );
      return;
    }
    case 'ChangesetPublished': {
      const d = e.data as EventData<typeof ChangesetPublished>;
      await updateChangeset(tx, schema, d.changesetId, at, {
        host_state: d.draft ? 'draft' : 'open',
        draft: d.draft,
        number: d.number,
        url: d.url,
      });
      return;
    }
    case 'ChangesetUpdated': {
      const d = e.data as EventData<typeof ChangesetUpdated>;
      const set: Record<string, unknown> = d.number === null ? {} : { number: d.number };
      if (d.operation === 'undraft') Object.assign(set, { draft: false, host_state: 'open' });
      if (d.operation === 'convert-to-draft')
        Object.assign(set, { draft: true, host_state: 'draft' });
      if (d.operation === 'reopen') set.host_state = 'open';
      await updateChangeset(tx, schema, d.changesetId, at, set);
      if (d.operation === 'reopen')
        await tx.query(
          `UPDATE ${schema}.status_changesets SET host_state = 'draft' WHERE changeset_id = $1 AND draft`,
          [d.changesetId],
        );
      return;
    }
    case 'ChangesetClosed': {
      const d = e.data as EventData<typeof ChangesetClosed>;
      await updateChangeset(tx, schema, d.changesetId, at, {
        host_state: 'closed',
        number: d.number,
        url: d.url,
      });
      return;
    }
    case 'ChangesetObserved': {
      const d = e.data as EventData<typeof ChangesetObserved>;
      const set: Record<string, unknown> = { number: d.number };
      if (d.url !== undefined) set.url = d.url;
      if (d.draft !== undefined) set.draft = d.draft;
      if (d.checks !== undefined) set.checks = d.checks;
      if (d.reviewDecision !== undefined) set.review = d.reviewDecision;
      await updateChangeset(tx, schema, d.changesetId, at, set);
      if (d.state !== undefined) {
        // An open changeset shows as draft while it is one.
        await tx.query(
          `UPDATE ${schema}.status_changesets
              SET host_state = CASE WHEN $2 = 'open' AND draft THEN 'draft' ELSE $2 END
            WHERE changeset_id = $1`,
          [d.changesetId, d.state],
        );
      }
      return;
    }
    case 'ReconcileFailed': {
      const d = e.data as EventData<typeof ReconcileFailed>;
      // Only failures acting on the current desired state are shown; older ones are moot.
      await tx.query(
        `UPDATE ${schema}.status_changesets SET last_error = $3, error_terminal = $4, updated_at = $5
          WHERE changeset_id = $1 AND spec_event_id = $2`,
        [d.changesetId, d.specEventId, d.message, !d.retryable, at],
      );
      return;
    }
    case 'ChangesetReconciled': {
      const d = e.data as EventData<typeof ChangesetReconciled>;
      await tx.query(
        `UPDATE ${schema}.status_changesets
            SET reconciled_spec_event_id = $2, last_error = NULL, error_terminal = false, updated_at = $3
          WHERE changeset_id = $1 AND spec_event_id = $2`,
        [d.changesetId, d.specEventId, at],
      );
      return;
    }
  }
}

const CHANGESET_COLUMNS = new Set(['host_state', 'draft', 'checks', 'review', 'url', 'number']);

async function updateChangeset(
  tx: PoolClient,
  schema: string,
  changesetId: string,
  at: Date,
  set: Record<string, unknown>,
): Promise<void> {
  const columns = Object.keys(set).filter((c) => CHANGESET_COLUMNS.has(c));
  const assignments = columns.map((c, i) => `${c} = $${i + 3}`);
  await tx.query(
    `UPDATE ${schema}.status_changesets SET ${[...assignments, 'updated_at = $2'].join(', ')}
      WHERE changeset_id = $1`,
    [changesetId, at, ...columns.map((c) => set[c])],
  );
}
