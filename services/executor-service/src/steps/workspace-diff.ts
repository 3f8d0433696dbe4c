import type { ChangedFiles, FileDiff } from '@campaigns/campaign-spec';
import { git, gitBuffer } from './git.js';
import { NO_FILES } from './step-template.js';

/**
 * Stages everything in the workspace (`git add -A`) and returns the staged tree's id. `--sparse`:
 * in a checkout limited to a workspace (workspace-scope.ts), a file a step writes at a path that
 * was not checked out is staged as in a full checkout, where without it git refuses; files not
 * checked out are skip-worktree either way, never deletions. In a full checkout it changes nothing.
 */
export async function stageWorkspace(workspaceDir: string): Promise<string> {
  await git(['add', '-A', '--sparse'], { cwd: workspaceDir, discardOutput: true });
  return (await git(['write-tree'], { cwd: workspaceDir })).trim();
}

/** One path of `git diff --raw`: what changed, from which object to which. */
export interface RawEntry {
  /** A (added), C (copied), D (deleted), M (modified), R (renamed), T (type changed)… */
  readonly status: string;
  readonly oldMode: string;
  readonly newMode: string;
  readonly oldId: string;
  readonly newId: string;
  /** The path after the change (the old path for a deletion). */
  readonly path: string;
}

function filesOf(entries: readonly RawEntry[]): ChangedFiles {
  const files = {
    modified: [] as string[],
    added: [] as string[],
    deleted: [] as string[],
    renamed: [] as string[],
  };
  for (const { status, path } of entries) {
    if (status === 'R') files.renamed.push(path);
    else if (status === 'A' || status === 'C') files.added.push(path);
    else if (status === 'D') files.deleted.push(path);
    else files.modified.push(path);
  }
  return files;
}

/** Parses `--raw -z` records (`:old new oldId newId S\0path\0[path\0]`) from `at`; returns them and where they end. */
function parseRaw(out: Buffer, at: number): { entries: RawEntry[]; end: number } {
  const entries: RawEntry[] = [];
  const field = (): string => {
    const end = out.indexOf(0, at);
    if (end < 0) throw new Error('truncated git diff --raw output');
    const text = out.toString('utf8', at, end);
    at = end + 1;
    return text;
  };
  while (at < out.length && out[at] === 0x3a /* ':' */) {
    const [oldMode, newMode, oldId, newId, score] = field().slice(1).split(' ') as [
      string,
      string,
      string,
      string,
      string,
    ];
    const status = score[0]!;
    let path = field();
    if (status === 'R' || status === 'C') path = field();
    entries.push({ status, oldMode, newMode, oldId, newId, path });
  }
  return { entries, end: at };
}

/** The files that differ between two trees (or commits), with renames detected. */
export async function changedFiles(
  workspaceDir: string,
  from: string,
  to: string,
): Promise<ChangedFiles> {
  if (from === to) return NO_FILES;
  const out = await gitBuffer(
    ['diff-tree', '-r', '-M', '--no-commit-id', '--raw', '-z', '--no-abbrev', from, to],
    { cwd: workspaceDir },
  );
  return filesOf(parseRaw(out, 0).entries);
}

/** The staged workspace against the base commit, from one `git diff`. */
export interface StagedDiff {
  /** `git diff --cached --binary -M` against the base commit; empty when nothing changed. */
  readonly diff: Buffer;
  readonly files: ChangedFiles;
  /** `diff` split per file, in git's order. */
  readonly fileDiffs: FileDiff[];
  readonly entries: readonly RawEntry[];
}

/** Nothing staged differs from the base. */
export const EMPTY_DIFF: StagedDiff = {
  diff: Buffer.alloc(0),
  files: NO_FILES,
  fileDiffs: [],
  entries: [],
};

/**
 * One `git diff --cached --binary -M --raw -p -z` against the base commit: the raw records
 * (statuses, paths, object ids) and then, after a NUL, exactly the patch `git diff --cached
 * --binary -M` prints. The patch is split per file at its `diff --git ` lines, which cannot
 * occur inside a patch: content lines start with a space, +, - or \, and binary patches use an
 * alphabet without spaces. With `tree` (a workspace staged in Node, which has no index), `git
 * diff-tree` between the base and that tree prints the same bytes.
 */
export async function stagedDiff(
  workspaceDir: string,
  baseRevision: string,
  tree?: string,
): Promise<StagedDiff> {
  const out = await gitBuffer(
    [
      ...(tree === undefined ? ['diff', '--cached'] : ['diff-tree', '-r']),
      '--binary',
      '-M',
      '--no-color',
      '--no-ext-diff',
      '--raw',
      '-p',
      '-z',
      '--no-abbrev',
      baseRevision,
      ...(tree === undefined ? [] : [tree]),
    ],
    { cwd: workspaceDir },
  );
  const { entries, end } = parseRaw(out, 0);
  if (entries.length === 0)
    return { diff: Buffer.alloc(0), files: NO_FILES, fileDiffs: [], entries };
  if (out[end] !== 0) throw new Error('git diff --raw -p output has no separator before the patch');
  const diff = out.subarray(end + 1);
  const text = diff.toString('utf8');
  const starts: number[] = [];
  for (let at = 0; at < text.length; at = text.indexOf('\n', at) + 1 || text.length) {
    if (text.startsWith('diff --git ', at)) starts.push(at);
  }
  if (starts.length !== entries.length) {
    throw new Error(
      `the diff has ${starts.length} file headers for ${entries.length} changed files`,
    );
  }
  return {
    diff,
    files: filesOf(entries),
    fileDiffs: starts.map((start, index) => ({
      path: entries[index]!.path,
      patch: text.slice(start, starts[index + 1] ?? text.length),
    })),
    entries,
  };
}
