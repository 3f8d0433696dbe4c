import type {
  AccessDenied,
  BulkChangesetProcessed,
  BulkOperationRequested,
  CampaignClosed,
  CampaignDeleted,
  ChangesetActionRequested,
  ChangesetClosed,
  ChangesetObserved,
  ChangesetPublished,
  ChangesetReconciled,
  ChangesetImportRequested,
  ChangesetSpecComputed,
  ChangesetSpecRemoved,
  ChangesetUpdated,
  EventData,
  ExecutionFailed,
  ChangesetRenderFailed,
  ExecutionQueued,
  ExecutionStarted,
  PatchComputed,
  ReconcileFailed,
  SpecApplied,
  StoredEvent,
  WorkspaceResolutionFailed,
  WorkspacesResolved,
} from '@campaigns/events';
import { unifiedDiff } from './line-diff.js';

/** `--changeset HOST/OWNER/NAME[@BRANCH]`: one repository, optionally one head branch. */
export interface ChangesetFilter {
  repository: string;
  headBranch?: string;
}

export function parseChangesetFilter(value: string): ChangesetFilter | null {
  const at = value.indexOf('@');
  const repository = at === -1 ? value : value.slice(0, at);
  const headBranch = at === -1 ? undefined : value.slice(at + 1);
  if (repository.split('/').length < 3 || repository.split('/').some((p) => p === '')) return null;
  if (headBranch === '') return null;
  return headBranch === undefined ? { repository } : { repository, headBranch };
}

/** The repository an event concerns (campaign-level events concern none). */
export function repositoryOf(e: StoredEvent): string | null {
  const d = e.data as { repository?: unknown; workspace?: { repository?: unknown } };
  if (typeof d.repository === 'string') return d.repository;
  if (typeof d.workspace?.repository === 'string') return d.workspace.repository;
  return null;
}

/**
 * Keeps the campaign's applies (the causes of everything else, with their diffs) and the events
 * of one repository; with a head branch, its changeset events only of that branch (execution
 * events name no head branch and stay).
 */
export function filterChangeset(
  events: readonly StoredEvent[],
  filter: ChangesetFilter,
): StoredEvent[] {
  return events.filter((e) => {
    if (e.type === 'SpecApplied') return true;
    if (repositoryOf(e) !== filter.repository) return false;
    if (filter.headBranch === undefined) return true;
    const branch = (e.data as { headBranch?: unknown }).headBranch;
    return typeof branch !== 'string' || branch === filter.headBranch;
  });
}

/** `--json`: one event per line, as stored, for SIEM ingestion. */
export function eventJsonLine(e: StoredEvent): string {
  return JSON.stringify({
    global_position: Number(e.global_position),
    recorded_at: e.recorded_at.toISOString(),
    stream: e.stream_id,
    version: Number(e.stream_version),
    type: e.type,
    event_id: e.event_id,
    schema_version: e.schema_version,
    data: e.data,
    metadata: e.metadata,
    hash: e.hash,
  });
}

export const shortId = (id: string | null | undefined): string =>
  id === null || id === undefined || id === '' ? '-' : id.replace(/-/g, '').slice(0, 8);

/**
 * `campaign audit NAME`: one line per event — time, correlation id (short: the apply that caused
 * it, or a webhook's delivery), actor, and what happened — with each applied spec's unified diff
 * against the spec applied before it (`previousSpecText`: the one before the first event shown).
 */
export function formatTimeline(
  events: readonly StoredEvent[],
  options: { campaign: string; previousSpecText?: string | null },
): string {
  if (events.length === 0) return `Campaign ${options.campaign}: no events in this range.\n`;
  const applies = events.filter((e) => e.type === 'SpecApplied').length;
  const out = [
    `Campaign ${options.campaign}: ${events.length} event${events.length === 1 ? '' : 's'}, ` +
      `${applies} appl${applies === 1 ? 'y' : 'ies'}, ` +
      `${events[0]!.recorded_at.toISOString()} … ${events.at(-1)!.recorded_at.toISOString()}`,
  ];
  const actorWidth = Math.max(5, ...events.map((e) => e.metadata.actor.length));
  out.push(`${'TIME'.padEnd(24)}  ${'APPLY'.padEnd(8)}  ${'ACTOR'.padEnd(actorWidth)}  EVENT`);
  let previous = options.previousSpecText ?? null;
  for (const e of events) {
    out.push(
      `${e.recorded_at.toISOString()}  ${shortId(e.metadata.correlation_id).padEnd(8)}  ${e.metadata.actor.padEnd(actorWidth)}  ${describe(e)}`,
    );
    if (e.type === 'SpecApplied') {
      const d = e.data as EventData<typeof SpecApplied>;
      const diff = unifiedDiff(previous ?? '', d.specText, {
        oldName: previous === null ? '/dev/null' : 'previous spec',
        newName: d.fileName,
      });
      out.push(
        ...diff
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`),
      );
      previous = d.specText;
    }
  }
  return `${out.join('\n')}\n`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const quote = (s: string) => JSON.stringify(s);

function oneLine(s: string, max = 200): string {
  const line = s.replace(/\s*\n\s*/g, ' ⏎ ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function changesetLabel(d: { repository: string; headBranch: string }): string {
  return `${d.repository}@${d.headBranch}`;
}

/** What one event says, in one line. */
export function describe(e: StoredEvent): string {
  switch (e.type) {
    case 'SpecApplied': {
      const d = e.data as EventData<typeof SpecApplied>;
      return `spec applied by ${d.actor} from ${d.fileName} (apply ${d.applyId}, spec ${d.specHash.slice(0, 12)})`;
    }
    case 'WorkspacesResolved': {
      const d = e.data as EventData<typeof WorkspacesResolved>;
      const more = d.problemsOmitted > 0 ? ` (and ${d.problemsOmitted} more)` : '';
      const problems =
        d.problems.length === 0
          ? 'no problems'
          : `problems: ${d.problems.map((p) => `${p.entry}: ${p.message}`).join('; ')}${more}`;
      return `workspaces resolved: ${plural(d.workspaceCount, 'workspace')}, ${problems}`;
    }
    case 'CampaignClosed': {
      const d = e.data as EventData<typeof CampaignClosed>;
      return `campaign closed by ${d.actor}${d.closeChangesets ? ', closing its changesets' : ', its changesets left as they are'}`;
    }
    case 'CampaignDeleted': {
      const d = e.data as EventData<typeof CampaignDeleted>;
      return `campaign deleted by ${d.actor} (its name may be applied anew)`;
    }
    case 'WorkspaceResolutionFailed': {
      const d = e.data as EventData<typeof WorkspaceResolutionFailed>;
      return `workspace resolution failed: ${oneLine(d.message)}`;
    }
    case 'ExecutionQueued': {
      const d = e.data as EventData<typeof ExecutionQueued>;
      const path = d.workspace.path === '' ? '' : ` ${d.workspace.path}`;
      return `${d.workspace.repository}${path}: execution ${d.executionId.slice(0, 8)} queued at ${d.workspace.branch} ${d.workspace.baseRevision.slice(0, 10)}`;
    }
    case 'ExecutionStarted': {
      const d = e.data as EventData<typeof ExecutionStarted>;
      return `${d.repository}: execution ${d.executionId.slice(0, 8)} started (attempt ${d.attempt}, worker ${d.worker})`;
    }
    case 'PatchComputed': {
      const d = e.data as EventData<typeof PatchComputed>;
      const f = d.files;
      const n = f.modified.length + f.added.length + f.deleted.length + f.renamed.length;
      const what = d.empty
        ? 'no changes'
        : `${plural(n, 'file')} changed (${f.modified.length} modified, ${f.added.length} added, ${f.deleted.length} deleted, ${f.renamed.length} renamed)`;
      return `${d.workspace.repository}: patch computed, ${what}${d.cached ? ', cached' : ''}`;
    }
    case 'ExecutionFailed': {
      const d = e.data as EventData<typeof ExecutionFailed>;
      const step = d.stepIndex === null ? '' : `, step ${d.stepIndex + 1}`;
      const exit = d.exitCode === null ? '' : `, exit code ${d.exitCode}`;
      const stderr = d.stderrTail.trim() === '' ? '' : `; stderr: ${oneLine(tail(d.stderrTail))}`;
      return `${d.repository}: execution failed (${d.reason}${step}${exit}): ${oneLine(d.message)}${stderr}`;
    }
    case 'ChangesetRenderFailed': {
      const d = e.data as EventData<typeof ChangesetRenderFailed>;
      const path = d.path === '' ? '' : ` (${d.path})`;
      return `${d.repository}${path}: changeset template failed to render: ${oneLine(d.message)}`;
    }
    case 'ChangesetSpecComputed': {
      const d = e.data as EventData<typeof ChangesetSpecComputed>;
      return `${changesetLabel(d)}: desired state computed: title ${quote(d.spec.title)}, published ${String(d.spec.published)}, base ${d.spec.baseRef}`;
    }
    case 'ChangesetImportRequested': {
      const d = e.data as EventData<typeof ChangesetImportRequested>;
      return `${changesetLabel(d)}: import of PR #${d.number} requested (tracked, never pushed to)`;
    }
    case 'ChangesetSpecRemoved': {
      const d = e.data as EventData<typeof ChangesetSpecRemoved>;
      return `${changesetLabel(d)}: desired state removed (${d.reason})`;
    }
    case 'ChangesetPublished': {
      const d = e.data as EventData<typeof ChangesetPublished>;
      return `${changesetLabel(d)}: published PR #${d.number}${d.draft ? ' as draft' : ''} ${d.url} title ${quote(d.title)}`;
    }
    case 'ChangesetUpdated': {
      const d = e.data as EventData<typeof ChangesetUpdated>;
      const what: string[] = [];
      if (d.commitSha !== undefined) what.push(`commit ${d.commitSha.slice(0, 10)}`);
      if (d.title !== undefined) what.push(`title ${quote(d.title)}`);
      if (d.body !== undefined) what.push('body');
      if (d.baseRef !== undefined) what.push(`base ${d.baseRef}`);
      if (d.mergeMethod !== undefined) what.push(`method ${d.mergeMethod}`);
      if (d.mergeCommitSha !== undefined)
        what.push(`merge commit ${d.mergeCommitSha.slice(0, 10)}`);
      const pr = d.number === null ? '' : ` PR #${d.number}`;
      return `${changesetLabel(d)}: ${d.operation}${pr}${what.length > 0 ? `: ${what.join(', ')}` : ''}`;
    }
    case 'ChangesetClosed': {
      const d = e.data as EventData<typeof ChangesetClosed>;
      return `${changesetLabel(d)}: closed PR #${d.number} ${d.url} (${d.reason})`;
    }
    case 'ChangesetReconciled': {
      const d = e.data as EventData<typeof ChangesetReconciled>;
      const ops = d.operations.length === 0 ? 'nothing to do' : d.operations.join(', ');
      return `${changesetLabel(d)}: reconciled (${ops})`;
    }
    case 'ReconcileFailed': {
      const d = e.data as EventData<typeof ReconcileFailed>;
      const kind = d.retryable
        ? `retryable${d.retryInMs === null ? '' : `, retry in ${d.retryInMs} ms`}`
        : 'terminal';
      const http = d.httpStatus === null ? '' : `, HTTP ${d.httpStatus}`;
      return `${changesetLabel(d)}: ${d.operation} failed (attempt ${d.attempt}, ${kind}${http}): ${oneLine(d.message)}`;
    }
    case 'ChangesetObserved': {
      const d = e.data as EventData<typeof ChangesetObserved>;
      const facts: string[] = [];
      if (d.state !== undefined) facts.push(`state ${d.state}`);
      if (d.draft !== undefined) facts.push(`draft ${d.draft ? 'yes' : 'no'}`);
      if (d.checks !== undefined) facts.push(`checks ${d.checks ?? '-'}`);
      if (d.reviewDecision !== undefined) facts.push(`review ${d.reviewDecision ?? '-'}`);
      if (d.title !== undefined) facts.push(`title ${quote(d.title)}`);
      if (d.headRefOid !== undefined) facts.push(`head ${d.headRefOid.slice(0, 10)}`);
      const who = d.sender === undefined ? '' : ` by ${d.sender}`;
      const via =
        d.source === 'webhook'
          ? `webhook ${d.trigger}${d.deliveryId === null ? '' : ` (delivery ${d.deliveryId})`}`
          : d.trigger;
      return `${changesetLabel(d)}: observed PR #${d.number} via ${via}${who}: ${facts.join(', ') || 'no change'}`;
    }
    case 'BulkOperationRequested': {
      const d = e.data as EventData<typeof BulkOperationRequested>;
      const filter = Object.entries(d.filter).map(([k, v]) => `${k} ${String(v)}`);
      return `bulk ${d.operation} requested on ${plural(d.changesetCount, 'changeset')}${filter.length > 0 ? ` (${filter.join(', ')})` : ''}, operation ${d.operationId}`;
    }
    case 'BulkChangesetProcessed': {
      const d = e.data as EventData<typeof BulkChangesetProcessed>;
      return `${changesetLabel(d)}: bulk operation ${shortId(d.operationId)} ${d.result}: ${oneLine(d.message)}`;
    }
    case 'ChangesetActionRequested': {
      const d = e.data as EventData<typeof ChangesetActionRequested>;
      return `${changesetLabel(d)}: ${d.action} requested by bulk operation ${shortId(d.bulkOperationId)}`;
    }
    case 'AccessDenied': {
      const d = e.data as EventData<typeof AccessDenied>;
      return `refused: ${d.actor} may not ${d.action} in namespace ${d.namespace} (${oneLine(d.reason)})`;
    }
    default:
      return `${e.type} on ${e.stream_id} v${e.stream_version}`;
  }
}

/** The last three non-empty lines of a stderr tail. */
function tail(text: string): string {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join('\n');
}
