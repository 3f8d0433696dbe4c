import type { ChangedFiles, FileDiff } from '@campaigns/campaign-spec';
import { git, gitBuffer } from './git.js';

/** Stages everything in the workspace (`git add -A`) and returns the staged tree's id. */
export async function stageWorkspace(workspaceDir: string): Promise<string> {
  await git(['add', '-A'], { cwd: workspaceDir });
  return (await git(['write-tree'], { cwd: workspaceDir })).trim();
}

/** The files that differ between two trees (or commits), with renames detected. */
export async function changedFiles(
  workspaceDir: string,
  from: string,
  to: string,
): Promise<ChangedFiles> {
  const out = await git(
    ['diff-tree', '-r', '-M', '--no-commit-id', '--name-status', '-z', from, to],
    {
      cwd: workspaceDir,
    },
  );
  const fields = out.split('\0');
  const files = {
    modified: [] as string[],
    added: [] as string[],
    deleted: [] as string[],
    renamed: [] as string[],
  };
  for (let i = 0; i + 1 < fields.length;) {
    const status = fields[i++]!;
    const kind = status[0];
    if (kind === 'R' || kind === 'C') {
      i++; // the old path
      (kind === 'R' ? files.renamed : files.added).push(fields[i++]!);
    } else {
      const path = fields[i++]!;
      if (kind === 'A') files.added.push(path);
      else if (kind === 'D') files.deleted.push(path);
      else files.modified.push(path);
    }
  }
  return files;
}

/** The cumulative binary diff of the staged workspace against the base commit. */
export function stagedBinaryDiff(workspaceDir: string, baseRevision: string): Promise<Buffer> {
  return gitBuffer(
    ['diff', '--cached', '--binary', '-M', '--no-color', '--no-ext-diff', baseRevision],
    {
      cwd: workspaceDir,
    },
  );
}

/**
 * The staged diff split per file, in git's order, each named by its path after the change (the
 * old path for a deletion). A `diff --git ` line cannot occur inside a patch: content lines start
 * with a space, +, - or \, and binary patches use an alphabet without spaces.
 */
export async function stagedFileDiffs(
  workspaceDir: string,
  baseRevision: string,
  diff: Buffer,
): Promise<FileDiff[]> {
  const out = await git(['diff', '--cached', '-M', '--name-status', '-z', baseRevision], {
    cwd: workspaceDir,
  });
  const fields = out.split('\0');
  const paths: string[] = [];
  for (let i = 0; i + 1 < fields.length;) {
    const status = fields[i++]!;
    if (status.startsWith('R') || status.startsWith('C')) i++;
    paths.push(fields[i++]!);
  }
  const text = diff.toString('utf8');
  const starts: number[] = [];
  for (let at = 0; at < text.length; at = text.indexOf('\n', at) + 1 || text.length) {
    if (text.startsWith('diff --git ', at)) starts.push(at);
  }
  if (starts.length !== paths.length) {
    throw new Error(`the diff has ${starts.length} file headers for ${paths.length} changed files`);
  }
  return starts.map((start, index) => ({
    path: paths[index]!,
    patch: text.slice(start, starts[index + 1] ?? text.length),
  }));
}
