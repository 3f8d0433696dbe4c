import type {
  CampaignPhase,
  CampaignStatus,
  CampaignSummary,
  ChangesetStatus,
  ExecutionStatus,
} from '@campaigns/events';
import type { Pool } from 'pg';
import type { StatusChangesetRow } from './status-projection.js';

export interface CampaignRow {
  campaign: string;
  apply_id: string;
  spec_hash: string;
  actor: string;
  applied_at: Date;
  resolved: boolean;
  resolution_error: string | null;
  problems: { entry: string; message: string }[];
}

export interface ExecutionRow {
  execution_id: string;
  repository: string;
  path: string;
  state: ExecutionStatus['state'];
  message: string | null;
  stderr_tail: string | null;
  /** From the process manager: rendering its changesets failed. */
  render_error: string | null;
  /** The process manager has handled its result (rendered its changesets or failed to). */
  rendered: boolean;
}

/** A `status_changesets` row, with the process manager's newest desired state for it. */
export interface ChangesetRow extends Omit<StatusChangesetRow, 'host_state'> {
  host_state: 'open' | 'draft' | 'closed' | 'merged' | null;
  /**
   * The desired state the process manager last recorded for this changeset. The status
   * projection follows the log a little behind it; until it has seen that event the changeset
   * is not converged, whatever the older spec's reconciliation says.
   */
  desired_event_id: string | null;
}

/** Reads CampaignStatus and CampaignSummary from the status projection (and the process manager's render failures). */
export class CampaignStatusQueries {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async get(campaign: string): Promise<CampaignStatus | null> {
    const { rows } = await this.pool.query<CampaignRow>(
      `SELECT * FROM ${this.schema}.status_campaigns WHERE campaign = $1`,
      [campaign],
    );
    const row = rows[0];
    if (!row) return null;
    const [executions, changesets, unseen] = await Promise.all([
      this.executions(row),
      this.changesets(campaign),
      this.unseenChangesets(campaign),
    ]);
    return campaignStatus(row, executions, changesets, unseen);
  }

  async list(): Promise<CampaignSummary[]> {
    const { rows } = await this.pool.query<CampaignRow>(
      `SELECT * FROM ${this.schema}.status_campaigns ORDER BY campaign`,
    );
    const out: CampaignSummary[] = [];
    for (const row of rows) {
      const [executions, changesets, unseen] = await Promise.all([
        this.executions(row),
        this.changesets(row.campaign),
        this.unseenChangesets(row.campaign),
      ]);
      const status = campaignStatus(row, executions, changesets, unseen);
      out.push({
        campaign: row.campaign,
        appliedAt: status.appliedAt,
        actor: row.actor,
        phase: status.phase,
        changesets: status.counts.changesets,
        open: status.changesets.filter((c) => c.state === 'open' || c.state === 'draft').length,
        merged: status.changesets.filter((c) => c.state === 'merged').length,
      });
    }
    return out;
  }

  private async executions(row: CampaignRow): Promise<ExecutionRow[]> {
    const { rows } = await this.pool.query<ExecutionRow>(
      `SELECT e.execution_id, e.repository, e.path, e.state, e.message, e.stderr_tail,
              p.render_error, coalesce(p.handled, false) AS rendered
         FROM ${this.schema}.status_executions e
         LEFT JOIN ${this.schema}.pm_executions p ON p.execution_id = e.execution_id
        WHERE e.campaign = $1 AND e.apply_id = $2
        ORDER BY e.repository, e.path`,
      [row.campaign, row.apply_id],
    );
    return rows;
  }

  private async changesets(campaign: string): Promise<ChangesetRow[]> {
    const { rows } = await this.pool.query<ChangesetRow>(
      `SELECT s.*, p.last_event_id AS desired_event_id
         FROM ${this.schema}.status_changesets s
         LEFT JOIN ${this.schema}.pm_changesets p ON p.changeset_id = s.changeset_id
        WHERE s.campaign = $1
        ORDER BY s.repository, s.head_branch`,
      [campaign],
    );
    return rows;
  }

  /** Changesets the process manager wants that the status projection has not seen yet. */
  private async unseenChangesets(campaign: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${this.schema}.pm_changesets p
        WHERE p.campaign = $1 AND NOT p.removed
          AND NOT EXISTS (SELECT 1 FROM ${this.schema}.status_changesets s
                           WHERE s.changeset_id = p.changeset_id)`,
      [campaign],
    );
    return rows[0]!.n;
  }
}

/** The state a changeset shows: the code host's when it exists there, else the desired one. */
export function changesetState(row: ChangesetRow): ChangesetStatus['state'] {
  if (row.host_state === 'merged') return 'merged';
  if (!row.wanted)
    return row.host_state === 'open' || row.host_state === 'draft' ? row.host_state : 'removed';
  if (row.host_state !== null) return row.host_state;
  return row.published === 'false' ? 'unpublished' : 'pending';
}

function toChangesetStatus(row: ChangesetRow): ChangesetStatus {
  return {
    repository: row.repository,
    headBranch: row.head_branch,
    state: changesetState(row),
    draft: row.draft,
    checks: row.checks,
    review: row.review,
    url: row.url,
    number: row.number,
    lastError: row.last_error,
    errorTerminal: row.error_terminal,
    converged:
      row.reconciled_spec_event_id === row.spec_event_id &&
      (row.desired_event_id === null || row.desired_event_id === row.spec_event_id),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toExecutionStatus(row: ExecutionRow): ExecutionStatus {
  if (row.render_error !== null)
    return {
      repository: row.repository,
      path: row.path,
      state: 'failed',
      message: `rendering the changeset template failed: ${row.render_error}`,
      stderrTail: null,
    };
  return {
    repository: row.repository,
    path: row.path,
    state: row.state,
    message: row.message,
    stderrTail: row.stderr_tail,
  };
}

export function campaignStatus(
  row: CampaignRow,
  executionRows: ExecutionRow[],
  changesetRows: ChangesetRow[],
  /** Changesets the process manager wants that the status projection has not seen yet. */
  unseenChangesets: number,
): CampaignStatus {
  const executions = executionRows.map(toExecutionStatus);
  const changesets = changesetRows.map(toChangesetStatus);
  const finished = executionRows.filter(
    (e, i) =>
      executions[i]!.state === 'failed' ||
      executions[i]!.state === 'empty' ||
      (executions[i]!.state === 'succeeded' && e.rendered),
  );
  const failed = executions.filter((e) => e.state === 'failed').length;
  const terminal = changesets.filter((c) => c.lastError !== null && c.errorTerminal).length;
  const problems = [...row.problems];
  if (row.resolution_error !== null)
    problems.push({ entry: 'on', message: `resolving workspaces failed: ${row.resolution_error}` });

  let phase: CampaignPhase;
  if (row.resolution_error !== null) phase = 'needs-attention';
  else if (!row.resolved || finished.length < executions.length) phase = 'executing';
  else if (
    unseenChangesets > 0 ||
    changesets.some((c) => !c.converged && !(c.lastError !== null && c.errorTerminal))
  )
    phase = 'reconciling';
  else phase = failed > 0 || terminal > 0 ? 'needs-attention' : 'complete';

  return {
    campaign: row.campaign,
    applyId: row.apply_id,
    specHash: row.spec_hash,
    appliedAt: row.applied_at.toISOString(),
    actor: row.actor,
    phase,
    counts: {
      workspaces: executions.length,
      executed: finished.length,
      failed,
      changesets: changesets.filter((c) => c.state !== 'removed').length,
      published: changesets.filter((c) => c.number !== null).length,
      errored: changesets.filter((c) => c.lastError !== null).length,
    },
    executions,
    changesets,
    problems,
  };
}
