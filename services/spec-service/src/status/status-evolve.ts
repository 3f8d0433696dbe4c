// How execution and changeset events change the status rows of a batch: pure functions over rows
// read once per batch and written back together (`status-store.ts` holds the statements).
import type {
  ChangesetActionRequested,
  ChangesetClosed,
  ChangesetObserved,
  ChangesetPublished,
  ChangesetScheduled,
  ChangesetReconciled,
  ChangesetRenderFailed,
  ChangesetSpecComputed,
  ChangesetUpdated,
  EventData,
  ExecutionFailed,
  ExecutionQueued,
  PatchComputed,
  ReconcileFailed,
  StoredEvent,
} from '@campaigns/events';

const FINISHED: readonly string[] = ['succeeded', 'empty', 'failed'];

/**
 * `status_changesets.published` of a changeset `importChangesets` tracks: the campaign never
 * publishes it, and once no longer listed it is detached, not closed.
 */
export const IMPORTED = 'import';

/** A row of `status_executions`, as read and written. */
export interface StatusExecutionRow {
  execution_id: string;
  campaign: string;
  apply_id: string;
  repository: string;
  /** Null in rows projected before executions recorded it. */
  branch: string | null;
  path: string;
  state: 'queued' | 'running' | 'succeeded' | 'empty' | 'failed';
  message: string | null;
  stderr_tail: string | null;
  updated_at: Date;
}

/** A row of `status_changesets`, as read and written. */
export interface StatusChangesetRow {
  changeset_id: string;
  campaign: string;
  repository: string;
  head_branch: string;
  /** The workspace's path in the repository ('' its root); null when not known (older events). */
  workspace_path: string | null;
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
  /** Waiting for a publication slot: when it is expected (ISO 8601; '' none within a week). */
  scheduled_for: string | null;
  /** The rendered title, base branch, number of files changed and diff blob of its desired state; null when imported. */
  title: string | null;
  base_branch: string | null;
  files_changed: number | null;
  diff_sha256: string | null;
  updated_at: Date;
}

/** A batch's rows by key; only the ones set are written back. */
export class Rows<R> {
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

/** Applies one execution event to the batch's rows; events about a row not created yet do nothing. */
export function evolveExecution(rows: Rows<StatusExecutionRow>, e: StoredEvent): void {
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
      branch: d.workspace.branch,
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

/** Applies one changeset event to the batch's rows; events about a row not created yet do nothing. */
export function evolveChangeset(rows: Rows<StatusChangesetRow>, e: StoredEvent): void {
  const at = e.recorded_at;
  const id = (e.data as { changesetId: string }).changesetId;
  if (e.type === 'ChangesetSpecComputed' || e.type === 'ChangesetImportRequested') {
    const existing = rows.get(id);
    // A new desired state: earlier errors were about the old one. What the code host showed
    // (a changeset wanted again, an import tracked again) is still what it shows.
    const computed =
      e.type === 'ChangesetSpecComputed'
        ? (e.data as EventData<typeof ChangesetSpecComputed>)
        : null;
    const d = e.data as { campaign: string; repository: string; headBranch: string };
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
      workspace_path: computed ? (computed.path ?? existing?.workspace_path ?? null) : null,
      published: computed ? String(computed.spec.published) : IMPORTED,
      wanted: true,
      spec_event_id: e.event_id,
      last_error: null,
      error_terminal: false,
      scheduled_for: null,
      title: computed ? computed.spec.title : null,
      base_branch: computed ? computed.spec.baseRef : null,
      files_changed: computed ? filesChanged(computed.spec.files) : null,
      diff_sha256: computed ? computed.spec.diff.sha256 : null,
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
        scheduled_for: null,
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
        scheduled_for: null,
        updated_at: at,
      });
      return;
    }
    case 'ChangesetScheduled': {
      const d = e.data as EventData<typeof ChangesetScheduled>;
      if (row.spec_event_id !== d.specEventId) return;
      Object.assign(row, { scheduled_for: d.at ?? '', updated_at: at });
      return;
    }
    case 'ChangesetUpdated': {
      const d = e.data as EventData<typeof ChangesetUpdated>;
      if (d.number !== null) row.number = d.number;
      if (d.operation === 'undraft') Object.assign(row, { draft: false, host_state: 'open' });
      if (d.operation === 'convert-to-draft')
        Object.assign(row, { draft: true, host_state: 'draft' });
      if (d.operation === 'reopen') row.host_state = row.draft ? 'draft' : 'open';
      // Merged by auto-merge: an earlier refusal to merge is moot.
      if (d.operation === 'merge')
        Object.assign(row, { host_state: 'merged', last_error: null, error_terminal: false });
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
    case 'ChangesetActionRequested': {
      // A retry is a new attempt at the same desired state: the failure is no longer its last.
      const d = e.data as EventData<typeof ChangesetActionRequested>;
      if (d.action === 'retry')
        Object.assign(row, { last_error: null, error_terminal: false, updated_at: at });
      return;
    }
    case 'ReconcileFailed': {
      const d = e.data as EventData<typeof ReconcileFailed>;
      // Only failures acting on the current desired state are shown; older ones are moot.
      if (row.spec_event_id !== d.specEventId) return;
      // The host refusing its own auto-merge needs no one: the reconciler merges itself.
      const terminal = !d.retryable && d.operation !== 'enable-auto-merge';
      Object.assign(row, { last_error: d.message, error_terminal: terminal, updated_at: at });
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

/** How many files a changeset's diff touches. */
function filesChanged(files: EventData<typeof ChangesetSpecComputed>['spec']['files']): number {
  return files.modified.length + files.added.length + files.deleted.length + files.renamed.length;
}
