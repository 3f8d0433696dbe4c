// The process manager's memory of what it decided, in memory for one lane batch: the rows of its
// `pm_*` tables and their transitions. Pure: `desired-state-store.ts` reads and writes the rows.
import type { ChangesetSpecData, WorkspaceIdentity } from '@campaigns/events';

/** `pm_campaigns`: each campaign's current application (the newest SpecApplied of its stream). */
export interface CampaignRow {
  campaign: string;
  apply_id: string;
  spec_event_id: string;
  /** The version of the campaign stream's event that set the row (its SpecApplied, or its close). */
  stream_version: bigint;
  /** `campaign close`: patches of its application render nothing any more. */
  closed: boolean;
}

/** `pm_applies`: one application; `spec_text` is left unread when its parsed spec is cached. */
export interface ApplyRow {
  apply_id: string;
  campaign: string;
  spec_hash: string;
  spec_text: string | null;
  file_name: string;
  actor: string;
  spec_event_id: string;
}

/** `pm_changesets`: the desired state the process manager last recorded for a changeset. */
export interface ChangesetRow {
  changeset_id: string;
  campaign: string;
  repository: string;
  head_branch: string;
  /** The branch of the workspace that renders it (its base branch); null if never recorded. */
  workspace_branch: string | null;
  workspace_path: string;
  removed: boolean;
  spec: ChangesetSpecData | null;
  last_event_id: string;
  /** `importChangesets`: the pull request's number; null for changesets a workspace renders. */
  import_number: number | null;
}

/** `pm_executions`: an execution queued, and whether its patch was handled (and failed to render). */
export interface ExecutionRow {
  execution_id: string;
  campaign: string;
  apply_id: string;
  handled: boolean;
  render_error: string | null;
}

/** One transition of the rows, as `decide` returns it and `DesiredState.evolve` applies it. */
export type RowChange =
  /** A SpecApplied: its application, which becomes current unless a newer one already is. */
  | { kind: 'applied'; apply: ApplyRow & { spec_text: string }; streamVersion: bigint }
  /** The campaign was closed by the event at `streamVersion` of its stream. */
  | { kind: 'closed'; campaign: string; streamVersion: bigint }
  /** A changeset's desired state was recorded (computed anew, or removed). */
  | { kind: 'changeset'; row: ChangesetRow }
  /** Executions were queued; a row that already says more (handled) stays as it is. */
  | { kind: 'queued'; campaign: string; applyId: string; executionIds: readonly string[] }
  /** An execution's patch was handled; `renderError` when its changesets could not be rendered. */
  | {
      kind: 'handled';
      executionId: string;
      campaign: string;
      applyId: string;
      renderError: string | null;
    };

/** What changed in a batch, for the store to write back. */
export interface WrittenRows {
  /** Applications first seen in the batch. */
  applies: readonly ApplyRow[];
  /** Campaigns whose current application changed, by name. */
  campaigns: readonly CampaignRow[];
  /** Changesets recorded anew, by id. */
  changesets: readonly ChangesetRow[];
  /** Every execution row the batch set, by id. */
  executions: readonly ExecutionRow[];
}

/**
 * The process manager's rows for one lane batch: read once at its start (`remember*`), changed in
 * memory as its events are decided (`evolve`), and written back once at its end (`written`).
 */
export class DesiredState {
  private readonly campaigns = new Map<string, CampaignRow>();
  private readonly changedCampaigns = new Set<string>();
  private readonly applies = new Map<string, ApplyRow>();
  private readonly newApplies: ApplyRow[] = [];
  private readonly changesets = new Map<string, ChangesetRow>();
  private readonly changedChangesets = new Set<string>();
  /** Changesets by `campaign\0repository\0workspace branch\0workspace path`. */
  private readonly byWorkspace = new Map<string, Set<string>>();
  /** Campaigns whose every wanted changeset has been read. */
  private readonly wantedRead = new Set<string>();
  private readonly executions = new Map<string, ExecutionRow>();

  currentApplication(campaign: string): string | undefined {
    return this.campaigns.get(campaign)?.apply_id;
  }

  /** Whether the campaign was closed (and not applied anew since). */
  isClosed(campaign: string): boolean {
    return this.campaigns.get(campaign)?.closed ?? false;
  }

  application(applyId: string): ApplyRow | undefined {
    return this.applies.get(applyId);
  }

  /** Every changeset recorded for one workspace (removed ones too), by changeset id. */
  changesetsOf(campaign: string, workspace: WorkspaceIdentity): ChangesetRow[] {
    const ids = this.byWorkspace.get(workspaceKey(campaign, workspace)) ?? new Set();
    return [...ids].sort().map((id) => this.changesets.get(id)!);
  }

  changeset(changesetId: string): ChangesetRow | undefined {
    return this.changesets.get(changesetId);
  }

  execution(executionId: string): ExecutionRow | undefined {
    return this.executions.get(executionId);
  }

  /** Whether the campaign's wanted changesets have all been read (`rememberWanted`). */
  hasWanted(campaign: string): boolean {
    return this.wantedRead.has(campaign);
  }

  /** The campaign's changesets that are wanted now; they must have been read first. */
  wanted(campaign: string): ChangesetRow[] {
    if (!this.wantedRead.has(campaign))
      throw new Error(`the wanted changesets of ${campaign} were not read`);
    return [...this.changesets.values()]
      .filter((r) => r.campaign === campaign && !r.removed)
      .sort((a, b) => (a.changeset_id < b.changeset_id ? -1 : 1));
  }

  /** A row as read from the table: remembered, not written back. */
  rememberCampaign(row: CampaignRow): void {
    this.campaigns.set(row.campaign, row);
  }

  rememberApplication(row: ApplyRow): void {
    this.applies.set(row.apply_id, row);
  }

  rememberChangeset(row: ChangesetRow): void {
    const before = this.changesets.get(row.changeset_id);
    // One changeset id per repository and branch: another workspace of it may take it over.
    if (before)
      this.byWorkspace
        .get(workspaceKey(before.campaign, workspaceOf(before)))
        ?.delete(row.changeset_id);
    this.changesets.set(row.changeset_id, row);
    const key = workspaceKey(row.campaign, workspaceOf(row));
    let ids = this.byWorkspace.get(key);
    if (ids === undefined) this.byWorkspace.set(key, (ids = new Set()));
    ids.add(row.changeset_id);
  }

  /** The campaign's wanted changesets as read from the table; rows this batch changed are newer. */
  rememberWanted(campaign: string, rows: readonly ChangesetRow[]): void {
    for (const r of rows) if (!this.changesets.has(r.changeset_id)) this.rememberChangeset(r);
    this.wantedRead.add(campaign);
  }

  /** Applies one transition to the rows; what it changes is written back. */
  evolve(change: RowChange): void {
    switch (change.kind) {
      case 'applied':
        this.recordApplication(change.apply, change.streamVersion);
        return;
      case 'closed': {
        const row = this.campaigns.get(change.campaign);
        if (row === undefined || row.stream_version >= change.streamVersion) return;
        this.campaigns.set(change.campaign, {
          ...row,
          closed: true,
          stream_version: change.streamVersion,
        });
        this.changedCampaigns.add(change.campaign);
        return;
      }
      case 'changeset':
        this.rememberChangeset(change.row);
        this.changedChangesets.add(change.row.changeset_id);
        return;
      case 'queued':
        for (const id of change.executionIds) {
          if (this.executions.has(id)) continue;
          this.executions.set(id, {
            execution_id: id,
            campaign: change.campaign,
            apply_id: change.applyId,
            handled: false,
            render_error: null,
          });
        }
        return;
      case 'handled':
        this.executions.set(change.executionId, {
          execution_id: change.executionId,
          campaign: change.campaign,
          apply_id: change.applyId,
          handled: true,
          render_error: change.renderError,
        });
        return;
    }
  }

  /**
   * What the batch changed, each kind in key order: two instances writing the same rows then wait
   * for each other instead of deadlocking.
   */
  written(): WrittenRows {
    return {
      applies: this.newApplies,
      campaigns: [...this.changedCampaigns].sort().map((name) => this.campaigns.get(name)!),
      changesets: [...this.changedChangesets].sort().map((id) => this.changesets.get(id)!),
      executions: [...this.executions.values()].sort((x, y) =>
        x.execution_id < y.execution_id ? -1 : 1,
      ),
    };
  }

  private recordApplication(apply: ApplyRow & { spec_text: string }, streamVersion: bigint): void {
    if (!this.applies.has(apply.apply_id)) this.newApplies.push(apply);
    this.applies.set(apply.apply_id, apply);
    const current = this.campaigns.get(apply.campaign);
    if (current && current.stream_version >= streamVersion) return;
    this.campaigns.set(apply.campaign, {
      campaign: apply.campaign,
      apply_id: apply.apply_id,
      spec_event_id: apply.spec_event_id,
      stream_version: streamVersion,
      closed: false,
    });
    this.changedCampaigns.add(apply.campaign);
  }
}

function workspaceKey(campaign: string, { repository, branch, path }: WorkspaceIdentity): string {
  return `${campaign}\0${repository}\0${branch}\0${path}`;
}

/** The workspace that renders a changeset (a row without its branch: its base branch, if known). */
export function workspaceOf(row: ChangesetRow): WorkspaceIdentity {
  return {
    repository: row.repository,
    branch: row.workspace_branch ?? row.spec?.baseRef ?? '',
    path: row.workspace_path,
  };
}
