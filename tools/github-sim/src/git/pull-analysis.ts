// What GitHub computes for a pull request (commits, additions, deletions, changed files and
// mergeability), worked out in this process over one `git cat-file --batch-command` for the
// common case: the head a few commits straight ahead of the base. Four git processes per pull
// request (merge-tree, rev-list, merge-base, diff-tree) were most of the simulator's cost; every
// case this does not answer exactly (merges on the way, a moved base, possible renames, large
// diffs) returns undefined and the caller asks git as before.
import { parseTree as parseRawTree, type ObjectReader } from './batch-object-reader.js';
import type { DiffStats } from './repo-store.js';

export interface PullAnalysis {
  /** True: the head descends from the base, so merging it is a fast-forward and never conflicts. */
  mergeable: true;
  stats: DiffStats;
}

/** Commits walked from the head before giving up on finding the base. */
const MAX_COMMITS = 50;
/** Changed files diffed here; more, and git does it. */
const MAX_FILES = 100;
/** Lines of one file pair diffed here, and the edit distance searched for. */
const MAX_LINES = 20_000;
const MAX_EDITS = 500;
/** git's buffer_is_binary: a NUL in the first 8000 bytes. */
const BINARY_PROBE = 8000;

interface TreeEntry {
  mode: string;
  sha: string;
  isTree: boolean;
  isSubmodule: boolean;
}

export async function analyseFastForward(
  reader: ObjectReader,
  base: string,
  head: string,
): Promise<PullAnalysis | undefined> {
  if (base === head) return undefined;
  // The head's first-parent line back to the base, every commit on the way with one parent.
  let sha = head;
  let commits = 0;
  let headTree: string | undefined;
  while (sha !== base) {
    if (commits >= MAX_COMMITS) return undefined;
    const commit = await readCommit(reader, sha);
    if (commit === undefined || commit.parents.length !== 1) return undefined;
    headTree ??= commit.tree;
    commits++;
    sha = commit.parents[0]!;
  }
  const baseCommit = await readCommit(reader, base);
  if (baseCommit === undefined || headTree === undefined) return undefined;

  const changes = await diffTrees(reader, baseCommit.tree, headTree);
  if (changes === undefined) return undefined;
  // An added and a removed file could be a rename, which git's -M reports as one file.
  if (changes.some((c) => c.before === null) && changes.some((c) => c.after === null))
    return undefined;
  let additions = 0;
  let deletions = 0;
  const blobs = await readBlobs(
    reader,
    changes.flatMap((c) => [c.before, c.after].filter((s): s is string => s !== null)),
  );
  if (blobs === undefined) return undefined;
  for (const change of changes) {
    const before = change.before === null ? EMPTY : blobs.get(change.before)!;
    const after = change.after === null ? EMPTY : blobs.get(change.after)!;
    if (change.before === change.after) continue; // a mode change: 0 and 0
    if (isBinary(before) || isBinary(after)) continue; // numstat's "-": counted as 0
    const counted = countLineChanges(lines(before), lines(after));
    if (counted === undefined) return undefined;
    additions += counted.additions;
    deletions += counted.deletions;
  }
  return {
    mergeable: true,
    stats: { commits, additions, deletions, changed_files: changes.length },
  };
}

const EMPTY = Buffer.alloc(0);

async function readCommit(
  reader: ObjectReader,
  sha: string,
): Promise<{ tree: string; parents: string[] } | undefined> {
  const [object] = await reader.read('contents', [sha]);
  if (object === undefined || object.type !== 'commit') return undefined;
  const text = object.data!.toString('utf8');
  const headerEnd = text.indexOf('\n\n');
  const header = headerEnd < 0 ? text : text.slice(0, headerEnd);
  let tree: string | undefined;
  const parents: string[] = [];
  for (const line of header.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
  }
  return tree === undefined ? undefined : { tree, parents };
}

/** Changed files between two trees: blob ids before and after (null: absent), recursively. */
async function diffTrees(
  reader: ObjectReader,
  beforeTree: string,
  afterTree: string,
): Promise<{ before: string | null; after: string | null }[] | undefined> {
  const changes: { before: string | null; after: string | null }[] = [];
  // Pairs of trees to compare, level by level; a missing side is an added or removed tree.
  let level: [string | null, string | null][] = [[beforeTree, afterTree]];
  while (level.length > 0) {
    const ids = [...new Set(level.flat().filter((id): id is string => id !== null))];
    const objects = await reader.read('contents', ids);
    const trees = new Map<string, Map<string, TreeEntry>>();
    for (const [i, object] of objects.entries()) {
      if (object === undefined || object.type !== 'tree') return undefined;
      trees.set(ids[i]!, parseTree(object.data!));
    }
    const next: [string | null, string | null][] = [];
    for (const [a, b] of level) {
      const before = a === null ? new Map<string, TreeEntry>() : trees.get(a)!;
      const after = b === null ? new Map<string, TreeEntry>() : trees.get(b)!;
      for (const name of new Set([...before.keys(), ...after.keys()])) {
        const x = before.get(name);
        const y = after.get(name);
        if (x !== undefined && y !== undefined && x.sha === y.sha && x.mode === y.mode) continue;
        if (x?.isSubmodule || y?.isSubmodule) return undefined;
        // A file that became a directory (or back) is two changes git orders its own way.
        if (x !== undefined && y !== undefined && x.isTree !== y.isTree) return undefined;
        if (x?.isTree || y?.isTree) {
          next.push([x?.sha ?? null, y?.sha ?? null]);
          continue;
        }
        changes.push({ before: x?.sha ?? null, after: y?.sha ?? null });
        if (changes.length > MAX_FILES) return undefined;
      }
    }
    level = next;
  }
  return changes;
}

/** A tree's entries by name, from the reader's own tree parser. */
function parseTree(data: Buffer): Map<string, TreeEntry> {
  return new Map(
    parseRawTree(data).map((e) => [
      e.name,
      { mode: e.mode, sha: e.sha, isTree: e.type === 'tree', isSubmodule: e.type === 'commit' },
    ]),
  );
}

async function readBlobs(
  reader: ObjectReader,
  ids: string[],
): Promise<Map<string, Buffer> | undefined> {
  const unique = [...new Set(ids)];
  const objects = await reader.read('contents', unique);
  const blobs = new Map<string, Buffer>();
  for (const [i, object] of objects.entries()) {
    if (object === undefined || object.type !== 'blob') return undefined;
    blobs.set(unique[i]!, object.data!);
  }
  return blobs;
}

function isBinary(data: Buffer): boolean {
  return data.subarray(0, BINARY_PROBE).includes(0);
}

/** Lines as git counts them: each with its newline, a last line without one is a line too. */
export function lines(data: Buffer): string[] {
  const text = data.toString('latin1');
  const result: string[] = [];
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    if (end < 0) {
      result.push(text.slice(start));
      break;
    }
    result.push(text.slice(start, end + 1));
    start = end + 1;
  }
  return result;
}

/**
 * Added and deleted lines of the shortest edit script (Myers' O(ND) search), what git's numstat
 * reports for small diffs; undefined past the limits, where git's heuristics may count otherwise.
 */
export function countLineChanges(
  a: readonly string[],
  b: readonly string[],
): { additions: number; deletions: number } | undefined {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  if (n === 0 || m === 0) return { additions: m, deletions: n };
  if (n + m > MAX_LINES) return undefined;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[start + x] === b[start + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return { additions: (d + m - n) / 2, deletions: (d - m + n) / 2 };
    }
  }
  return undefined;
}
