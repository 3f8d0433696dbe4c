import {
  ChangesetRenderError,
  parseCampaignSpec,
  renderChangesetSpecs,
  type CampaignSpec,
  type StepResults,
} from '@campaigns/campaign-spec';
import {
  campaignStream,
  changesetId,
  changesetStream,
  deterministicEventId,
  executionId,
  executionStream,
  type ChangesetSpecComputed,
  type ChangesetSpecData,
  type ChangesetSpecRemoved,
  type EventData,
  type EventMetadata,
  type EventsLogger,
  type PatchComputed,
  type PostgresEventStore,
  type ProjectionContext,
  type ProjectionDefinition,
  type SpecApplied,
  type StoredEvent,
  MAX_RECORDED_PROBLEMS,
  type WorkspaceData,
} from '@campaigns/events';
import type { WorkspaceResolver } from '../workspaces/workspace-resolver.js';

/** Who the spec-service says recorded its events. */
export const SPEC_SERVICE_SOURCE = 'spec-service';

/**
 * The commit author of a changeset whose template names none. The reconciler pushes commits with
 * it; a spec sets its own with `changesetTemplate.commit.author`.
 */
export const DEFAULT_COMMIT_AUTHOR = Object.freeze({
  name: 'Campaigns',
  email: 'campaigns@noreply.localhost',
});

type SpecAppliedData = EventData<typeof SpecApplied>;
type PatchComputedData = EventData<typeof PatchComputed>;
type ChangesetSpecComputedData = EventData<typeof ChangesetSpecComputed>;
type RemovedReason = EventData<typeof ChangesetSpecRemoved>['reason'];

export interface ProcessManagerOptions {
  store: PostgresEventStore;
  resolver: WorkspaceResolver;
  logger?: EventsLogger;
}

/** Name of the process manager's projection; its tables are prefixed `pm_`. */
export const PROCESS_MANAGER_NAME = 'desired_state';

/**
 * The desired-state process manager: turns each `SpecApplied` into `WorkspacesResolved` and one
 * `ExecutionQueued` per workspace, and each `PatchComputed` of the campaign's current application
 * into `ChangesetSpecComputed` / `ChangesetSpecRemoved` events. It runs as a ProjectionConsumer,
 * so its appends commit together with its state and its checkpoint: each reaction happens once.
 * Event ids derive from the causing event, so even a re-run of a reaction stores nothing twice.
 *
 * It is not a replayable projection: its handler performs I/O (the resolver) and appends events.
 * Its tables are its memory of what it has decided (`pm_changesets` is the desired state it
 * recorded), written in the same transaction as the events that record those decisions.
 */
export function desiredStateProcessManager(options: ProcessManagerOptions): ProjectionDefinition {
  const { store, resolver } = options;
  return {
    name: PROCESS_MANAGER_NAME,
    categories: ['campaign', 'execution'],
    migrations: (schema) => [
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
    ],
    tables: [
      { name: 'pm_campaigns', key: ['campaign'] },
      { name: 'pm_applies', key: ['apply_id'] },
      { name: 'pm_changesets', key: ['changeset_id'] },
      { name: 'pm_executions', key: ['execution_id'] },
    ],
    async handle(events, ctx) {
      for (const e of events) {
        if (e.type === 'SpecApplied') await onSpecApplied(e as StoredEvent<SpecAppliedData>, ctx);
        else if (e.type === 'PatchComputed')
          await onPatchComputed(e as StoredEvent<PatchComputedData>, ctx);
      }
    },
  };

  async function onSpecApplied(
    e: StoredEvent<SpecAppliedData>,
    { tx, schema }: ProjectionContext,
  ): Promise<void> {
    const d = e.data;
    await tx.query(
      `INSERT INTO ${schema}.pm_applies (apply_id, campaign, spec_hash, spec_text, file_name, actor, spec_event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (apply_id) DO NOTHING`,
      [d.applyId, d.campaign, d.specHash, d.specText, d.fileName, d.actor, e.event_id],
    );
    await tx.query(
      `INSERT INTO ${schema}.pm_campaigns (campaign, apply_id, spec_event_id, stream_version)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (campaign) DO UPDATE SET apply_id = EXCLUDED.apply_id,
         spec_event_id = EXCLUDED.spec_event_id, stream_version = EXCLUDED.stream_version
       WHERE ${schema}.pm_campaigns.stream_version < EXCLUDED.stream_version`,
      [d.campaign, d.applyId, e.event_id, e.stream_version.toString()],
    );
    // A newer application already recorded makes this one moot: its own reaction follows.
    const later = await store.readStream(e.stream_id, { fromVersion: e.stream_version + 1n }, tx);
    if (later.some((l) => l.type === 'SpecApplied')) return;
    // Already reacted to (its outcome is in the stream): resolving again could answer otherwise.
    const outcomes = new Set(
      ['WorkspacesResolved', 'WorkspaceResolutionFailed'].map((t) =>
        deterministicEventId(e.event_id, t),
      ),
    );
    if (later.some((l) => outcomes.has(l.event_id))) return;

    const metadata = metadataFor(d.applyId, e.event_id, d.actor);
    const stream = campaignStream(d.campaign);
    const parsed = parseCampaignSpec(d.specText, d.fileName);
    let resolved;
    try {
      if (!parsed.spec) throw new Error('the spec no longer validates');
      resolved = await resolver.resolve(parsed.spec);
    } catch (err) {
      await store.append(
        stream,
        [
          {
            event_id: deterministicEventId(e.event_id, 'WorkspaceResolutionFailed'),
            type: 'WorkspaceResolutionFailed',
            data: {
              campaign: d.campaign,
              applyId: d.applyId,
              specHash: d.specHash,
              message: (err as Error).message.slice(0, 4000),
            },
          },
        ],
        { expected: 'any', metadata },
        tx,
      );
      options.logger?.warn(
        { campaign: d.campaign, applyId: d.applyId, err: (err as Error).message },
        'workspace resolution failed',
      );
      return;
    }

    // executionId covers (applyId, repository, path) but not the branch: a second branch of the
    // same workspace would collide with the first, so only the first runs and the rest are problems.
    const problems = resolved.problems.map((p) => ({ entry: p.entry, message: p.message }));
    const workspaces: (WorkspaceData & { executionId: string })[] = [];
    const seen = new Map<string, string>();
    for (const w of resolved.workspaces) {
      const id = executionId(d.applyId, w.repository, w.path);
      const first = seen.get(id);
      if (first !== undefined) {
        problems.push({
          entry: `repository: ${w.repository}`,
          message: `branch ${w.branch}${w.path === '' ? '' : ` (workspace ${w.path})`} is skipped: one campaign runs one branch per repository workspace, and ${first} already is`,
        });
        continue;
      }
      seen.set(id, w.branch);
      workspaces.push({
        repository: w.repository,
        branch: w.branch,
        baseRevision: w.baseRevision,
        path: w.path,
        searchResultPaths: w.searchResultPaths.slice(0, 100),
        executionId: id,
      });
    }
    await store.append(
      stream,
      [
        {
          event_id: deterministicEventId(e.event_id, 'WorkspacesResolved'),
          type: 'WorkspacesResolved',
          data: {
            campaign: d.campaign,
            applyId: d.applyId,
            specHash: d.specHash,
            workspaceCount: workspaces.length,
            problems: problems.slice(0, MAX_RECORDED_PROBLEMS),
            problemsOmitted: Math.max(0, problems.length - MAX_RECORDED_PROBLEMS),
          },
        },
      ],
      { expected: 'any', metadata },
      tx,
    );
    for (const w of workspaces) {
      const { executionId: id, ...workspace } = w;
      await store.append(
        executionStream(id),
        [
          {
            event_id: deterministicEventId(e.event_id, 'ExecutionQueued', id),
            type: 'ExecutionQueued',
            data: {
              executionId: id,
              campaign: d.campaign,
              applyId: d.applyId,
              specHash: d.specHash,
              workspace,
            },
          },
        ],
        { expected: 'any', metadata },
        tx,
      );
      await tx.query(
        `INSERT INTO ${schema}.pm_executions (execution_id, campaign, apply_id) VALUES ($1, $2, $3)
         ON CONFLICT (execution_id) DO NOTHING`,
        [id, d.campaign, d.applyId],
      );
    }

    const repositories = new Set(workspaces.map((w) => w.repository));
    const { rows } = await tx.query<ChangesetRow>(
      `SELECT * FROM ${schema}.pm_changesets WHERE campaign = $1 AND NOT removed ORDER BY changeset_id`,
      [d.campaign],
    );
    for (const row of rows.filter((r) => !repositories.has(r.repository))) {
      await removeChangeset(
        { tx, schema },
        row,
        e.event_id,
        d.applyId,
        metadata,
        'repository-left-spec',
      );
    }
  }

  async function onPatchComputed(
    e: StoredEvent<PatchComputedData>,
    { tx, schema }: ProjectionContext,
  ): Promise<void> {
    const d = e.data;
    const current = await tx.query<{ apply_id: string }>(
      `SELECT apply_id FROM ${schema}.pm_campaigns WHERE campaign = $1`,
      [d.campaign],
    );
    if (current.rows[0]?.apply_id !== d.applyId) return; // a stale application's result
    const apply = await tx.query<{ spec_text: string; file_name: string; actor: string }>(
      `SELECT spec_text, file_name, actor FROM ${schema}.pm_applies WHERE apply_id = $1`,
      [d.applyId],
    );
    const { spec_text, file_name, actor } = apply.rows[0]!;
    const metadata = metadataFor(d.applyId, e.event_id, actor);
    const recordExecution = (renderError: string | null) =>
      tx.query(
        `INSERT INTO ${schema}.pm_executions (execution_id, campaign, apply_id, handled, render_error)
         VALUES ($1, $2, $3, true, $4)
         ON CONFLICT (execution_id) DO UPDATE SET handled = true, render_error = EXCLUDED.render_error`,
        [d.executionId, d.campaign, d.applyId, renderError],
      );

    let rendered: Rendered[];
    try {
      rendered = d.empty ? [] : await render(parseOrThrow(spec_text, file_name), d, tx);
    } catch (err) {
      if (!(err instanceof RenderFailure || err instanceof ChangesetRenderError)) throw err;
      const message = err.message.slice(0, 4000);
      await store.append(
        executionStream(d.executionId),
        [
          {
            event_id: deterministicEventId(e.event_id, 'render-failed'),
            type: 'ChangesetRenderFailed',
            data: {
              executionId: d.executionId,
              campaign: d.campaign,
              applyId: d.applyId,
              repository: d.workspace.repository,
              path: d.workspace.path,
              message,
            },
          },
        ],
        { expected: 'any', metadata },
        tx,
      );
      await recordExecution(message);
      return;
    }

    const { rows: existing } = await tx.query<ChangesetRow>(
      `SELECT * FROM ${schema}.pm_changesets
        WHERE campaign = $1 AND repository = $2 AND workspace_path = $3 ORDER BY changeset_id`,
      [d.campaign, d.workspace.repository, d.workspace.path],
    );
    const produced = new Set<string>();
    for (const r of rendered) {
      const id = changesetId(d.campaign, d.workspace.repository, r.headBranch);
      produced.add(id);
      const before = existing.find((row) => row.changeset_id === id);
      if (before && !before.removed && sameJson(before.spec, r.spec)) continue;
      const data: ChangesetSpecComputedData = {
        changesetId: id,
        campaign: d.campaign,
        repository: d.workspace.repository,
        headBranch: r.headBranch,
        applyId: d.applyId,
        executionId: d.executionId,
        spec: r.spec,
      };
      const eventId = deterministicEventId(e.event_id, 'ChangesetSpecComputed', id);
      await store.append(
        changesetStream(id),
        [{ event_id: eventId, type: 'ChangesetSpecComputed', data }],
        { expected: 'any', metadata },
        tx,
      );
      await tx.query(
        `INSERT INTO ${schema}.pm_changesets
           (changeset_id, campaign, repository, head_branch, workspace_path, removed, spec, last_event_id)
         VALUES ($1, $2, $3, $4, $5, false, $6, $7)
         ON CONFLICT (changeset_id) DO UPDATE SET removed = false, spec = EXCLUDED.spec,
           workspace_path = EXCLUDED.workspace_path, last_event_id = EXCLUDED.last_event_id`,
        [
          id,
          d.campaign,
          d.workspace.repository,
          r.headBranch,
          d.workspace.path,
          JSON.stringify(r.spec),
          eventId,
        ],
      );
    }
    const reason: RemovedReason =
      rendered.length === 0 ? 'empty-diff' : 'branch-no-longer-produced';
    for (const row of existing.filter((r) => !r.removed && !produced.has(r.changeset_id))) {
      await removeChangeset({ tx, schema }, row, e.event_id, d.applyId, metadata, reason);
    }
    await recordExecution(null);
  }

  interface Rendered {
    headBranch: string;
    spec: ChangesetSpecData;
  }

  async function render(
    spec: CampaignSpec,
    d: PatchComputedData,
    tx: ProjectionContext['tx'],
  ): Promise<Rendered[]> {
    const blob = await store.getBlob(d.results.sha256);
    if (!blob) throw new RenderFailure(`the step results blob ${d.results.sha256} is missing`);
    let results: StepResults;
    try {
      results = JSON.parse(blob.toString('utf8')) as StepResults;
    } catch (err) {
      throw new RenderFailure(`the step results are not JSON: ${(err as Error).message}`);
    }
    const changesets = renderChangesetSpecs(spec, d.workspace, results);
    const out: Rendered[] = [];
    for (const cs of changesets) {
      let diff;
      if (cs.diff !== undefined) diff = await store.putBlob(cs.diff, tx);
      else if (changesets.length === 1 && d.diff) diff = d.diff;
      else
        throw new RenderFailure(
          `changeset ${cs.headRef}: the step results carry no per-file diffs to split the changes by transformChanges`,
        );
      out.push({
        headBranch: cs.headRef,
        spec: {
          baseRef: cs.baseRef,
          baseRevision: cs.baseRevision,
          title: cs.title,
          body: cs.body,
          commit: {
            message: cs.commit.message,
            author: cs.commit.author
              ? { name: cs.commit.author.name, email: cs.commit.author.email }
              : { ...DEFAULT_COMMIT_AUTHOR },
          },
          published: cs.published,
          diff,
          files: {
            modified: [...cs.files.modified],
            added: [...cs.files.added],
            deleted: [...cs.files.deleted],
            renamed: [...cs.files.renamed],
          },
        },
      });
    }
    return out;
  }

  async function removeChangeset(
    { tx, schema }: ProjectionContext,
    row: ChangesetRow,
    causeId: string,
    applyId: string,
    metadata: EventMetadata,
    reason: RemovedReason,
  ): Promise<void> {
    const eventId = deterministicEventId(causeId, 'ChangesetSpecRemoved', row.changeset_id);
    await store.append(
      changesetStream(row.changeset_id),
      [
        {
          event_id: eventId,
          type: 'ChangesetSpecRemoved',
          data: {
            changesetId: row.changeset_id,
            campaign: row.campaign,
            repository: row.repository,
            headBranch: row.head_branch,
            applyId,
            reason,
          },
        },
      ],
      { expected: 'any', metadata },
      tx,
    );
    await tx.query(
      `UPDATE ${schema}.pm_changesets SET removed = true, last_event_id = $2 WHERE changeset_id = $1`,
      [row.changeset_id, eventId],
    );
  }
}

interface ChangesetRow {
  changeset_id: string;
  campaign: string;
  repository: string;
  head_branch: string;
  workspace_path: string;
  removed: boolean;
  spec: ChangesetSpecData | null;
  last_event_id: string;
}

/** The changeset cannot be rendered from these results; recorded as the execution's failure. */
class RenderFailure extends Error {
  override readonly name = 'RenderFailure';
}

export function metadataFor(
  applyId: string,
  causationId: string | null,
  actor: string,
): EventMetadata {
  return { correlation_id: applyId, causation_id: causationId, actor, source: SPEC_SERVICE_SOURCE };
}

function parseOrThrow(specText: string, fileName: string): CampaignSpec {
  const parsed = parseCampaignSpec(specText, fileName);
  if (!parsed.spec) throw new RenderFailure(`the spec of this application no longer validates`);
  return parsed.spec;
}

/** JSON with object keys sorted, so values read back from jsonb compare equal to fresh ones. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
