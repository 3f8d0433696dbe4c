import type { ChangesetSpecData, Migration } from '@campaigns/events';
import type { PoolClient } from 'pg';

/** `pm_campaigns`: each campaign's current application (the newest SpecApplied of its stream). */
export interface CampaignRow {
  campaign: string;
  apply_id: string;
  spec_event_id: string;
  stream_version: bigint;
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
  workspace_path: string;
  removed: boolean;
  spec: ChangesetSpecData | null;
  last_event_id: string;
}

/** `pm_executions`: an execution queued, and whether its patch was handled (and failed to render). */
export interface ExecutionRow {
  execution_id: string;
  campaign: string;
  apply_id: string;
  handled: boolean;
  render_error: string | null;
}

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
  ];
}

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

const CHANGESET_COLUMNS = `changeset_id, campaign, repository, head_branch, workspace_path, removed, spec, last_event_id`;

/**
 * The process manager's rows for one lane batch: read once at its start, changed in memory as
 * its events are decided, and written back once at its end (multi-row upserts), all in the
 * consumer's transaction.
 */
export class ProcessManagerRows {
  private readonly campaigns = new Map<string, CampaignRow>();
  private readonly changedCampaigns = new Set<string>();
  private readonly applies = new Map<string, ApplyRow>();
  private readonly newApplies: ApplyRow[] = [];
  private readonly changesets = new Map<string, ChangesetRow>();
  private readonly changedChangesets = new Set<string>();
  /** Changesets by `campaign\0repository\0workspace path`. */
  private readonly byWorkspace = new Map<string, Set<string>>();
  /** Campaigns whose every wanted changeset has been read. */
  private readonly wantedRead = new Set<string>();
  private readonly executions = new Map<string, ExecutionRow>();

  private constructor(
    private readonly tx: PoolClient,
    private readonly schema: string,
  ) {}

  static async load(tx: PoolClient, schema: string, keys: RowKeys): Promise<ProcessManagerRows> {
    const rows = new ProcessManagerRows(tx, schema);
    if (keys.campaigns.length > 0) {
      const { rows: campaigns } = await tx.query<CampaignRow & { stream_version: string }>(
        `SELECT campaign, apply_id, spec_event_id, stream_version FROM ${schema}.pm_campaigns
          WHERE campaign = ANY ($1::text[])`,
        [keys.campaigns],
      );
      for (const c of campaigns)
        rows.campaigns.set(c.campaign, { ...c, stream_version: BigInt(c.stream_version) });
    }
    if (keys.applyIds.length > 0) {
      const { rows: applies } = await tx.query<ApplyRow>(
        `SELECT apply_id, campaign, spec_hash, file_name, actor, spec_event_id,
                CASE WHEN apply_id = ANY ($2::uuid[]) THEN NULL ELSE spec_text END AS spec_text
           FROM ${schema}.pm_applies WHERE apply_id = ANY ($1::uuid[])`,
        [keys.applyIds, [...keys.withoutSpecText]],
      );
      for (const a of applies) rows.applies.set(a.apply_id, a);
    }
    if (keys.workspaces.length > 0) {
      const { rows: changesets } = await tx.query<ChangesetRow>(
        `SELECT ${CHANGESET_COLUMNS} FROM ${schema}.pm_changesets c
           JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS k(campaign, repository)
             USING (campaign, repository)`,
        [keys.workspaces.map((w) => w.campaign), keys.workspaces.map((w) => w.repository)],
      );
      for (const c of changesets) rows.remember(c);
    }
    return rows;
  }

  currentApplication(campaign: string): string | undefined {
    return this.campaigns.get(campaign)?.apply_id;
  }

  application(applyId: string): ApplyRow | undefined {
    return this.applies.get(applyId);
  }

  /** A SpecApplied: its application, which becomes current unless a newer one already is. */
  recordApplication(apply: ApplyRow & { spec_text: string }, streamVersion: bigint): void {
    if (!this.applies.has(apply.apply_id)) this.newApplies.push(apply);
    this.applies.set(apply.apply_id, apply);
    const current = this.campaigns.get(apply.campaign);
    if (current && current.stream_version >= streamVersion) return;
    this.campaigns.set(apply.campaign, {
      campaign: apply.campaign,
      apply_id: apply.apply_id,
      spec_event_id: apply.spec_event_id,
      stream_version: streamVersion,
    });
    this.changedCampaigns.add(apply.campaign);
  }

  /** Every changeset recorded for one workspace (removed ones too), by changeset id. */
  changesetsOf(campaign: string, repository: string, path: string): ChangesetRow[] {
    const ids = this.byWorkspace.get(workspaceKey(campaign, repository, path)) ?? new Set();
    return [...ids].sort().map((id) => this.changesets.get(id)!);
  }

  /** The campaign's changesets that are wanted now (read from the table on first use). */
  async wantedChangesets(campaign: string): Promise<ChangesetRow[]> {
    if (!this.wantedRead.has(campaign)) {
      const { rows } = await this.tx.query<ChangesetRow>(
        `SELECT ${CHANGESET_COLUMNS} FROM ${this.schema}.pm_changesets
          WHERE campaign = $1 AND NOT removed`,
        [campaign],
      );
      // Rows this batch already changed are newer than the table's.
      for (const r of rows) if (!this.changesets.has(r.changeset_id)) this.remember(r);
      this.wantedRead.add(campaign);
    }
    return [...this.changesets.values()]
      .filter((r) => r.campaign === campaign && !r.removed)
      .sort((a, b) => (a.changeset_id < b.changeset_id ? -1 : 1));
  }

  putChangeset(row: ChangesetRow): void {
    this.remember(row);
    this.changedChangesets.add(row.changeset_id);
  }

  /** An execution was queued; a row that already says more (handled) stays as it is. */
  queueExecution(executionId: string, campaign: string, applyId: string): void {
    if (this.executions.has(executionId)) return;
    this.executions.set(executionId, {
      execution_id: executionId,
      campaign,
      apply_id: applyId,
      handled: false,
      render_error: null,
    });
  }

  executionHandled(
    executionId: string,
    campaign: string,
    applyId: string,
    renderError: string | null,
  ): void {
    this.executions.set(executionId, {
      execution_id: executionId,
      campaign,
      apply_id: applyId,
      handled: true,
      render_error: renderError,
    });
  }

  /**
   * Writes what changed: one statement per table (arrays, so no parameter limit applies), rows in
   * key order so that two instances writing the same rows wait for each other instead of deadlocking.
   */
  async save(): Promise<void> {
    const { tx, schema } = this;
    if (this.newApplies.length > 0) {
      const a = this.newApplies;
      await tx.query(
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
    if (this.changedCampaigns.size > 0) {
      const c = [...this.changedCampaigns].sort().map((name) => this.campaigns.get(name)!);
      await tx.query(
        `INSERT INTO ${schema}.pm_campaigns (campaign, apply_id, spec_event_id, stream_version)
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::bigint[])
         ON CONFLICT (campaign) DO UPDATE SET apply_id = EXCLUDED.apply_id,
           spec_event_id = EXCLUDED.spec_event_id, stream_version = EXCLUDED.stream_version
         WHERE ${schema}.pm_campaigns.stream_version < EXCLUDED.stream_version`,
        [
          c.map((r) => r.campaign),
          c.map((r) => r.apply_id),
          c.map((r) => r.spec_event_id),
          c.map((r) => r.stream_version.toString()),
        ],
      );
    }
    if (this.changedChangesets.size > 0) {
      const c = [...this.changedChangesets].sort().map((id) => this.changesets.get(id)!);
      await tx.query(
        `INSERT INTO ${schema}.pm_changesets (${CHANGESET_COLUMNS})
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::boolean[], $7::jsonb[], $8::uuid[])
         ON CONFLICT (changeset_id) DO UPDATE SET removed = EXCLUDED.removed, spec = EXCLUDED.spec,
           workspace_path = EXCLUDED.workspace_path, last_event_id = EXCLUDED.last_event_id`,
        [
          c.map((r) => r.changeset_id),
          c.map((r) => r.campaign),
          c.map((r) => r.repository),
          c.map((r) => r.head_branch),
          c.map((r) => r.workspace_path),
          c.map((r) => r.removed),
          c.map((r) => (r.spec === null ? null : JSON.stringify(r.spec))),
          c.map((r) => r.last_event_id),
        ],
      );
    }
    if (this.executions.size > 0) {
      const e = [...this.executions.values()].sort((x, y) =>
        x.execution_id < y.execution_id ? -1 : 1,
      );
      await tx.query(
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

  private remember(row: ChangesetRow): void {
    const before = this.changesets.get(row.changeset_id);
    // One changeset id per repository and branch: another workspace of it may take it over.
    if (before)
      this.byWorkspace
        .get(workspaceKey(before.campaign, before.repository, before.workspace_path))
        ?.delete(row.changeset_id);
    this.changesets.set(row.changeset_id, row);
    const key = workspaceKey(row.campaign, row.repository, row.workspace_path);
    let ids = this.byWorkspace.get(key);
    if (ids === undefined) this.byWorkspace.set(key, (ids = new Set()));
    ids.add(row.changeset_id);
  }
}

function workspaceKey(campaign: string, repository: string, path: string): string {
  return `${campaign}\0${repository}\0${path}`;
}
