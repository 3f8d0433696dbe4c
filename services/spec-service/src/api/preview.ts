import { publication, type CampaignSpec } from '@campaigns/campaign-spec';
import { canonicalJson, importedHeadBranch, type WorkspaceData } from '@campaigns/events';
import {
  MAX_PREVIEW_DIFF_BYTES,
  MAX_PREVIEW_DIFFS_BYTES,
  type PreviewAction,
  type PreviewRow,
} from '@campaigns/contracts';
import type { ImportedPullRequest } from '../workspaces/workspace-resolver.js';

/** A changeset the campaign has now, as the status projection knows it. */
export interface CurrentChangeset {
  repository: string;
  headBranch: string;
  /** The desired state still wants it (no ChangesetSpecRemoved since its last spec). */
  wanted: boolean;
  /** Its state on the code host; null while it has not been published. */
  hostState: 'open' | 'draft' | 'closed' | 'merged' | null;
  /** Tracked from importChangesets (its head branch is `#NUMBER`). */
  imported: boolean;
  /** The blob of its desired state's diff; null when imported (or projected before it was kept). */
  diffSha256: string | null;
}

export interface CurrentState {
  /** The spec of the campaign's current application; null for a new campaign. */
  spec: CampaignSpec | null;
  changesets: CurrentChangeset[];
  /**
   * Repositories whose steps, in the current application, ran and changed nothing in any of
   * their workspaces. Absent for a new campaign.
   */
  noChanges?: ReadonlySet<string>;
}

/**
 * What applying `spec` would do, per repository, compared with the current state. Nothing runs:
 * steps are not executed, so a repository whose steps changed is predicted to get a push even if
 * the new steps happen to produce the same diff, and a new repository is predicted to get a
 * changeset even if its steps change nothing. Template fields are compared as written (before
 * rendering), and the base branch moving on is not detected.
 */
export function previewRows(
  spec: CampaignSpec,
  workspaces: readonly WorkspaceData[],
  current: CurrentState,
  imports: readonly ImportedPullRequest[] = [],
): PreviewRow[] {
  const old = current.spec;
  const repositories = [...new Set(workspaces.map((w) => w.repository))].sort();
  const byRepository = new Map<string, CurrentChangeset[]>();
  // Imported changesets are no repository's workspace: they come and go with importChangesets.
  const own = current.changesets.filter((c) => !c.imported);
  for (const c of own) {
    byRepository.set(c.repository, [...(byRepository.get(c.repository) ?? []), c]);
  }
  const pushReasons = old ? diffReasons(old, spec, PUSH_FIELDS) : [];
  const updateReasons = old ? diffReasons(old, spec, UPDATE_FIELDS) : [];
  const oldBranch = old?.changesetTemplate?.branch;
  const newBranch = spec.changesetTemplate?.branch;
  const branchChanged = old !== null && oldBranch !== newBranch;

  const rows: PreviewRow[] = [];
  for (const repository of repositories) {
    const changesets = byRepository.get(repository) ?? [];
    const ranEmpty = current.noChanges?.has(repository) ?? false;
    // The same steps on the same repository change nothing again (the base branch moving on is
    // not detected, as everywhere in a preview).
    const staysEmpty = ranEmpty && old !== null && pushReasons.length === 0;
    if (changesets.length === 0) {
      rows.push(
        staysEmpty
          ? {
              repository,
              headBranch: null,
              action: 'no-changes',
              reasons: ['its steps changed nothing when they ran, and they are unchanged'],
            }
          : {
              repository,
              headBranch: null,
              action: 'create',
              reasons: [
                ranEmpty
                  ? `its steps changed nothing when they ran; ${pushReasons.join(', ')}: they run again, and a changeset is created if they change something`
                  : 'the repository is not in the campaign yet: its steps will run, and a changeset is created if they change something',
              ],
            },
      );
      continue;
    }
    let replaced = false;
    for (const c of changesets) {
      const row = (action: PreviewRow['action'], reasons: string[]) =>
        rows.push({ repository, headBranch: c.headBranch, action, reasons });
      if (c.hostState === 'merged') {
        row('unchanged', ['the changeset is merged; nothing more happens to it']);
      } else if (!c.wanted && staysEmpty) {
        // Removed because its steps came to change nothing (plan-changesets' empty-diff), not
        // because the repository left the spec: the unchanged steps do not bring it back.
        row('no-changes', [
          `its steps changed nothing when they ran, and they are unchanged: the changeset stays ${c.hostState === 'closed' ? 'closed' : 'removed'}`,
        ]);
      } else if (!c.wanted) {
        row('reopen', [
          c.hostState === 'closed'
            ? 'the repository is matched again: its closed changeset is reopened'
            : 'the repository is matched again: its removed changeset comes back',
        ]);
      } else if (
        c.hostState !== null &&
        publication(spec.changesetTemplate?.published, repository, c.headBranch) === false
      ) {
        // The reconciler's refusal (planner: cannot-unpublish), said before anything is recorded.
        row('refused', [
          'published is false, but the changeset is already published and cannot be unpublished; set published to true or "draft", or remove the repository from the spec to close it',
        ]);
      } else if (branchChanged) {
        replaced = true;
        row('close', [
          `changesetTemplate.branch changed from "${oldBranch ?? ''}" to "${newBranch ?? ''}": a changeset on the new branch replaces this one`,
        ]);
      } else if (pushReasons.length > 0) {
        row('push', [...pushReasons, ...updateReasons]);
      } else if (updateReasons.length > 0) {
        row('update', updateReasons);
      } else {
        row('unchanged', ['the steps and the changeset template are unchanged']);
      }
    }
    if (replaced)
      rows.push({
        repository,
        headBranch: null,
        action: 'create',
        reasons: [`a changeset on the branch "${newBranch ?? ''}" is created`],
      });
  }

  const matched = new Set(repositories);
  for (const c of own) {
    if (matched.has(c.repository) || !c.wanted || c.hostState === 'merged') continue;
    rows.push({
      repository: c.repository,
      headBranch: c.headBranch,
      action: 'close',
      reasons: [
        c.hostState === 'open' || c.hostState === 'draft'
          ? 'the repository is no longer matched by "on": its changeset is closed'
          : 'the repository is no longer matched by "on": its changeset is removed',
      ],
    });
  }
  rows.push(...importRows(current.changesets, imports));
  return rows.sort(
    (a, b) =>
      compare(a.repository, b.repository) || compare(a.headBranch ?? '', b.headBranch ?? ''),
  );
}

/** What importChangesets does: pull requests to import, tracked already, or to detach. */
function importRows(
  changesets: readonly CurrentChangeset[],
  imports: readonly ImportedPullRequest[],
): PreviewRow[] {
  const tracked = new Map(
    changesets
      .filter((c) => c.imported && c.wanted)
      .map((c) => [`${c.repository}\0${c.headBranch}`, c]),
  );
  const rows: PreviewRow[] = [];
  for (const i of imports) {
    const headBranch = importedHeadBranch(i.number);
    const key = `${i.repository}\0${headBranch}`;
    const known = tracked.get(key);
    tracked.delete(key);
    rows.push(
      known === undefined
        ? {
            repository: i.repository,
            headBranch,
            action: 'import',
            reasons: [
              `importChangesets lists #${i.number}: it is read from the code host and tracked, never pushed to`,
            ],
          }
        : {
            repository: i.repository,
            headBranch,
            action: 'unchanged',
            reasons: [`#${i.number} is tracked already`],
          },
    );
  }
  for (const c of tracked.values())
    rows.push({
      repository: c.repository,
      headBranch: c.headBranch,
      action: 'detach',
      reasons: [
        'no longer in importChangesets: it is left as it is on the code host and no longer tracked',
      ],
    });
  return rows;
}

interface Field {
  label: string;
  read: (spec: CampaignSpec) => unknown;
}

/** Fields whose change changes the diff: the commit is pushed again. */
const PUSH_FIELDS: Field[] = [
  { label: 'steps', read: (s) => s.steps },
  { label: 'workspaces', read: (s) => s.workspaces },
  { label: 'transformChanges', read: (s) => s.transformChanges ?? null },
];

/** Fields the reconciler writes to an existing changeset. */
const UPDATE_FIELDS: Field[] = [
  { label: 'changesetTemplate.title', read: (s) => s.changesetTemplate?.title },
  { label: 'changesetTemplate.body', read: (s) => s.changesetTemplate?.body },
  { label: 'changesetTemplate.commit', read: (s) => s.changesetTemplate?.commit },
  { label: 'changesetTemplate.published', read: (s) => s.changesetTemplate?.published ?? null },
  // Not written to the changeset, but it changes what the reconciler does with it: it merges.
  { label: 'x-campaigns.autoMerge', read: (s) => s['x-campaigns']?.autoMerge ?? null },
];

function diffReasons(old: CampaignSpec, spec: CampaignSpec, fields: Field[]): string[] {
  return fields
    .filter((f) => canonicalJson(f.read(old) ?? null) !== canonicalJson(f.read(spec) ?? null))
    .map((f) => `${f.label} changed`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Actions after which a changeset carries the diff it has now: its steps do not run again. */
const DIFF_KEPT: ReadonlySet<PreviewAction> = new Set(['unchanged', 'update', 'refused']);

/** The rows whose changeset's diff is known after the apply: the blob each carries. */
export function keptDiffs(
  rows: readonly PreviewRow[],
  changesets: readonly CurrentChangeset[],
): { row: PreviewRow; sha256: string }[] {
  const sha = new Map(changesets.map((c) => [`${c.repository}\0${c.headBranch}`, c.diffSha256]));
  return rows.flatMap((row) => {
    const sha256 =
      row.headBranch === null || !DIFF_KEPT.has(row.action)
        ? null
        : sha.get(`${row.repository}\0${row.headBranch}`);
    return sha256 ? [{ row, sha256 }] : [];
  });
}

/**
 * The rows with their diffs (`texts` by blob), each cut at a line to MAX_PREVIEW_DIFF_BYTES and
 * all together within MAX_PREVIEW_DIFFS_BYTES: a diff past that is empty, `truncated`.
 */
export function withDiffs(
  rows: readonly PreviewRow[],
  kept: readonly { row: PreviewRow; sha256: string }[],
  texts: ReadonlyMap<string, string>,
): PreviewRow[] {
  const shaOf = new Map(kept.map((k) => [k.row, k.sha256]));
  let left = MAX_PREVIEW_DIFFS_BYTES;
  return rows.map((row) => {
    const text = texts.get(shaOf.get(row) ?? '');
    if (text === undefined) return row;
    const cut = cutAtLine(text, Math.min(MAX_PREVIEW_DIFF_BYTES, left));
    left -= Buffer.byteLength(cut);
    return { ...row, diff: { text: cut, truncated: cut.length < text.length } };
  });
}

/** `text` whole when it fits in `maxBytes`, else its first lines that do. */
export function cutAtLine(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  const head = bytes.subarray(0, Math.max(maxBytes, 0)).toString('utf8');
  return head.slice(0, head.lastIndexOf('\n') + 1);
}
