// A workspace checked out and staged in Node, for the commits the executor has just fetched and
// holds in memory: `git read-tree -u`, `git add -A` and `git write-tree` without starting git.
// On the machine we measure on, a git process costs 8–20 ms of CPU to start, and these three
// plus index-pack were four of the five a hello-world job ran.
//
// Only what this code can do exactly as git does is done here; the rest is handed to git:
// - a tree with a gitlink (submodule), a `.gitattributes` (filters, line endings) or a name
//   that is not UTF-8 is checked out by git;
// - a step that adds a file the base does not track, in a repository with a `.gitignore`
//   anywhere, or creates a nested `.git`, a `.gitattributes` or a special file, is staged by git
//   (`git read-tree` of the staged tree, `git add -A`, `git write-tree`), for this and any later
//   step of the job;
// - git configuration that changes staging (core.autocrlf, core.excludesFile, …) turns Node
//   staging off for the process (`nodeStagingAllowed`).
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { BigIntStats } from 'node:fs';
import { git } from './git.js';
import { inScope, type WorkspaceScope } from './workspace-scope.js';
import {
  commitTree,
  EXECUTABLE_MODE,
  indexFile,
  FILE_MODE,
  GITLINK_MODE,
  objectId,
  parseTree,
  serializeTree,
  SYMLINK_MODE,
  TREE_MODE,
  writeLooseObject,
  type GitObject,
  type IndexEntry,
  type TreeEntry,
} from './git-objects.js';

/** What the workspace holds at a path, as staged, with the stat data to notice a change. */
interface StagedFile {
  readonly mode: string;
  readonly id: string;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
}

/** Files written at once during a checkout or read at once while staging. */
const PARALLEL_FILES = 16;
const MARKER = 'campaigns-staged';

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, items.length) }, lane));
}

function regularMode(stats: BigIntStats): string {
  return (stats.mode & 0o100n) !== 0n ? EXECUTABLE_MODE : FILE_MODE;
}

/**
 * The staged state of a workspace checked out by `checkoutInNode`: what `git add -A` would have
 * put in the index, kept in memory. `stage()` plays `git add -A` + `git write-tree`.
 */
export class NodeStage {
  readonly #workspaceDir: string;
  readonly #gitDir: string;
  readonly #baseRevision: string;
  readonly #baseTree: string;
  /** Ids of objects the store holds (the base commit's): never written again. */
  readonly #known: ReadonlySet<string>;
  readonly #baseIgnores: boolean;
  #files: Map<string, StagedFile>;
  /**
   * Files of the base a limited checkout did not write (see workspace-scope.ts) and no step has
   * written since: staged as in the base while they are absent, never as deleted.
   */
  readonly #notCheckedOut: Set<string>;
  #tree: string;
  /**
   * Git's "racy clean" rule: a file whose recorded times are not older than the moment they
   * were recorded may have changed again within the same clock tick, so its content is
   * compared. (Kernels with multigrain timestamps, like the one we test on, give a change
   * after a stat a later time; file systems with coarse times need this.)
   */
  #racyFromNs = 0n;

  constructor(init: {
    workspaceDir: string;
    baseRevision: string;
    baseTree: string;
    known: ReadonlySet<string>;
    baseIgnores: boolean;
    files: Map<string, StagedFile>;
    notCheckedOut?: Set<string>;
  }) {
    this.#workspaceDir = init.workspaceDir;
    this.#gitDir = join(init.workspaceDir, '.git');
    this.#baseRevision = init.baseRevision;
    this.#baseTree = init.baseTree;
    this.#known = init.known;
    this.#baseIgnores = init.baseIgnores;
    this.#files = init.files;
    this.#notCheckedOut = init.notCheckedOut ?? new Set();
    this.#tree = init.baseTree;
  }

  /** Records when the stat data was taken: a file changed in that same tick is read again. */
  async mark(): Promise<void> {
    const path = join(this.#gitDir, MARKER);
    await writeFile(path, '');
    this.#racyFromNs = (await lstat(path, { bigint: true })).mtimeNs;
  }

  /**
   * Stages the workspace like `git add -A` and returns the tree (the base revision itself when
   * nothing differs from it), or null when the workspace needs git's own staging (see the top of
   * this file); then the workspace has an index matching what was staged before, for git to go on.
   */
  async stage(): Promise<string | null> {
    const found = await this.#walk();
    if (found === null) return this.#handOver();
    const { paths, ignores } = found;
    const next = new Map<string, StagedFile>();
    const blobs = new Map<string, Buffer>();
    let changed = false;
    let untracked = false;
    await inParallel(paths, async (path) => {
      const full = join(this.#workspaceDir, path);
      const stats = await lstat(full, { bigint: true });
      const before = this.#files.get(path);
      if (!before) untracked = true;
      if (
        before &&
        before.size === stats.size &&
        before.mtimeNs === stats.mtimeNs &&
        before.ctimeNs === stats.ctimeNs &&
        before.ino === stats.ino &&
        before.mode === (stats.isSymbolicLink() ? SYMLINK_MODE : regularMode(stats)) &&
        stats.mtimeNs < this.#racyFromNs &&
        stats.ctimeNs < this.#racyFromNs
      ) {
        next.set(path, before);
        return;
      }
      const content = stats.isSymbolicLink()
        ? await readlink(full, { encoding: 'buffer' })
        : await readFile(full);
      const mode = stats.isSymbolicLink() ? SYMLINK_MODE : regularMode(stats);
      const id = objectId('blob', content);
      if (!before || before.id !== id || before.mode !== mode) {
        changed = true;
        if (!this.#known.has(id)) blobs.set(id, content);
      }
      next.set(path, {
        mode,
        id,
        size: stats.size,
        mtimeNs: stats.mtimeNs,
        ctimeNs: stats.ctimeNs,
        ino: stats.ino,
      });
    });
    if (untracked && (this.#baseIgnores || ignores)) return this.#handOver();
    if (this.#notCheckedOut.size > 0) {
      for (const path of paths) this.#notCheckedOut.delete(path);
      if (this.#keepNotCheckedOut(next)) changed = true;
    }
    if (!changed && next.size !== this.#files.size) changed = true;
    this.#files = next;
    if (changed) {
      await inParallel([...blobs], async ([, content]) => {
        await writeLooseObject(this.#gitDir, 'blob', content);
      });
      this.#tree = await this.#writeTrees();
    }
    await this.mark();
    return this.#tree === this.#baseTree ? this.#baseRevision : this.#tree;
  }

  /**
   * Adds the files a limited checkout did not write to `next`, as in the base. One the step
   * replaced (a file where the base has a directory of them, or a directory where it has a file)
   * goes, as it would in a full checkout; returns whether any did.
   */
  #keepNotCheckedOut(next: Map<string, StagedFile>): boolean {
    const directories = parentDirectories([...next.keys()]);
    let replaced = false;
    for (const path of this.#notCheckedOut) {
      let underFile = false;
      for (let dir = posix.dirname(path); dir !== '.' && !underFile; dir = posix.dirname(dir)) {
        underFile = next.has(dir);
      }
      if (underFile || directories.has(path)) {
        this.#notCheckedOut.delete(path);
        replaced = true;
      } else {
        next.set(path, this.#files.get(path)!);
      }
    }
    return replaced;
  }

  /**
   * Git takes over: an index of what is staged so far, from which `git add -A` goes on; the
   * files a limited checkout did not write are marked skip-worktree in it, as `git read-tree -u`
   * marks them, so that git does not stage them as deleted.
   */
  async #handOver(): Promise<null> {
    await git(['read-tree', this.#tree], { cwd: this.#workspaceDir, discardOutput: true });
    if (this.#notCheckedOut.size > 0) {
      await git(['update-index', '--skip-worktree', '-z', '--stdin'], {
        cwd: this.#workspaceDir,
        input: [...this.#notCheckedOut].map((path) => `${path}\0`).join(''),
        discardOutput: true,
      });
    }
    return null;
  }

  /**
   * Every file and symlink of the workspace (paths relative to it), as `git add -A` would see
   * them, and whether a `.gitignore` was among them; null for what only git should stage.
   */
  async #walk(): Promise<{ paths: string[]; ignores: boolean } | null> {
    const paths: string[] = [];
    let ignores = false;
    const pending = [''];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      const entries = await readdir(join(this.#workspaceDir, dir), { withFileTypes: true });
      for (const entry of entries) {
        const name = entry.name;
        if (dir === '' && name === '.git') continue;
        if (name.toLowerCase() === '.git' || name.includes('\uFFFD')) return null;
        if (name === '.gitattributes') return null;
        const path = dir === '' ? name : `${dir}/${name}`;
        if (entry.isDirectory()) pending.push(path);
        else if (entry.isFile() || entry.isSymbolicLink()) {
          if (name === '.gitignore') ignores = true;
          paths.push(path);
        } else return null;
      }
    }
    return { paths, ignores };
  }

  /** The staged files as trees, new ones written loose; the root tree's id. */
  async #writeTrees(): Promise<string> {
    interface Dir {
      readonly files: TreeEntry[];
      readonly dirs: Map<string, Dir>;
    }
    const root: Dir = { files: [], dirs: new Map() };
    for (const [path, file] of this.#files) {
      const parts = path.split('/');
      let dir = root;
      for (const part of parts.slice(0, -1)) {
        let sub = dir.dirs.get(part);
        if (!sub) dir.dirs.set(part, (sub = { files: [], dirs: new Map() }));
        dir = sub;
      }
      dir.files.push({ mode: file.mode, name: parts.at(-1)!, id: file.id });
    }
    const written: Promise<unknown>[] = [];
    const build = (dir: Dir): string => {
      const entries = [...dir.files];
      for (const [name, sub] of dir.dirs) entries.push({ mode: TREE_MODE, name, id: build(sub) });
      const data = serializeTree(entries);
      const id = objectId('tree', data);
      if (!this.#known.has(id)) written.push(writeLooseObject(this.#gitDir, 'tree', data));
      return id;
    };
    const id = build(root);
    await Promise.all(written);
    return id;
  }
}

/** Bytes of blobs a Node checkout writes at most; a larger tree is git's to check out. */
const MAX_CHECKOUT_BYTES = 256 * 1024 * 1024;

/**
 * Writes the commit's files into `workspaceDir` (whose `.git` is laid out) from the objects of
 * the pack it was fetched in, and returns its staged state; null, having written nothing, when
 * git should check it out instead (see the top of this file). With a `scope`, only the files in
 * it are written; the others are staged as in the commit and skip-worktree in the index.
 */
export async function checkoutInNode(
  objects: ReadonlyMap<string, GitObject>,
  commit: string,
  workspaceDir: string,
  scope: WorkspaceScope | null = null,
): Promise<NodeStage | null> {
  const commitObject = objects.get(commit);
  if (commitObject?.type !== 'commit') return null;
  const baseTree = commitTree(commitObject.data);
  const dirs: string[] = [];
  const files: { path: string; mode: string; id: string; data: Buffer }[] = [];
  const notCheckedOut: { path: string; mode: string; id: string }[] = [];
  let baseIgnores = false;
  let bytes = 0;
  const pending: { id: string; path: string }[] = [{ id: baseTree, path: '' }];
  while (pending.length > 0) {
    const { id, path } = pending.pop()!;
    const tree = objects.get(id);
    if (tree?.type !== 'tree') return null;
    const { entries, rawNames } = parseTree(tree.data);
    if (!rawNames) return null;
    for (const entry of entries) {
      const name = entry.name;
      if (name === '' || name === '.' || name === '..' || name.includes('/')) return null;
      if (name.toLowerCase() === '.git' || name === '.gitattributes') return null;
      const entryPath = path === '' ? name : `${path}/${name}`;
      if (entry.mode === TREE_MODE) {
        dirs.push(entryPath);
        pending.push({ id: entry.id, path: entryPath });
        continue;
      }
      if (entry.mode === GITLINK_MODE) return null;
      if (entry.mode !== FILE_MODE && entry.mode !== EXECUTABLE_MODE && entry.mode !== SYMLINK_MODE)
        return null;
      const blob = objects.get(entry.id);
      if (blob?.type !== 'blob') return null;
      if (entry.mode === SYMLINK_MODE && blob.data.toString('utf8').includes('\uFFFD')) return null;
      if (name === '.gitignore') baseIgnores = true;
      if (scope && !inScope(scope, entryPath)) {
        notCheckedOut.push({ path: entryPath, mode: entry.mode, id: entry.id });
        continue;
      }
      bytes += blob.data.length;
      if (bytes > MAX_CHECKOUT_BYTES) return null;
      files.push({ path: entryPath, mode: entry.mode, id: entry.id, data: blob.data });
    }
  }
  // Parents before children: `dirs` lists each directory after the one holding it. A limited
  // checkout makes only the directories its files are in, as git's sparse checkout does.
  const written = scope ? parentDirectories(files.map((file) => file.path)) : null;
  for (const dir of dirs) if (!written || written.has(dir)) await mkdir(join(workspaceDir, dir));
  const staged = new Map<string, StagedFile>();
  const index: IndexEntry[] = [];
  for (const file of notCheckedOut) {
    staged.set(file.path, { mode: file.mode, id: file.id, ...NO_STATS });
    index.push({ ...file, skipWorktree: true, stats: { ...NO_STATS, dev: 0n, uid: 0n, gid: 0n } });
  }
  await inParallel(files, async (file) => {
    const full = join(workspaceDir, file.path);
    if (file.mode === SYMLINK_MODE) await symlink(file.data.toString('utf8'), full);
    else await writeFile(full, file.data, { mode: file.mode === EXECUTABLE_MODE ? 0o777 : 0o666 });
    const stats = await lstat(full, { bigint: true });
    staged.set(file.path, {
      mode: file.mode,
      id: file.id,
      size: stats.size,
      mtimeNs: stats.mtimeNs,
      ctimeNs: stats.ctimeNs,
      ino: stats.ino,
    });
    index.push({ path: file.path, mode: file.mode, id: file.id, stats });
  });
  // The index `git read-tree -u` would have written: the workspace is a clean checkout to git.
  await writeFile(join(workspaceDir, '.git', 'index'), indexFile(index));
  const stage = new NodeStage({
    workspaceDir,
    baseRevision: commit,
    baseTree,
    known: new Set(objects.keys()),
    baseIgnores,
    files: staged,
    notCheckedOut: new Set(notCheckedOut.map((file) => file.path)),
  });
  await stage.mark();
  return stage;
}

/** The stat data of a file that is not in the workspace: nothing there matches it. */
const NO_STATS = { size: 0n, mtimeNs: 0n, ctimeNs: 0n, ino: 0n } as const;

/** Every directory that holds one of the paths, at any depth. */
function parentDirectories(paths: readonly string[]): Set<string> {
  const directories = new Set<string>();
  for (const path of paths) {
    for (let dir = posix.dirname(path); dir !== '.'; dir = posix.dirname(dir)) {
      if (directories.has(dir)) break;
      directories.add(dir);
    }
  }
  return directories;
}

let allowed: Promise<boolean> | undefined;

/**
 * Whether git's configuration outside the repository (system and global files, as the
 * executor's git sees them) leaves staging as this file does it: no line-ending conversion, no
 * excludes file, no case folding. Asked once per process.
 */
export function nodeStagingAllowed(): Promise<boolean> {
  allowed ??= (async () => {
    const xdg = process.env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
    if (existsSync(join(xdg, 'git', 'ignore'))) return false;
    const out = await git(
      [
        'config',
        '--get-regexp',
        '^core\\.(autocrlf|eol|safecrlf|excludesfile|ignorecase|filemode|symlinks|attributesfile|fsmonitor)$',
      ],
      { cwd: tmpdir() },
    ).catch((err: unknown) => {
      // Exit 1: no such setting, the answer we hope for.
      if ((err as { exitCode?: number }).exitCode === 1) return '';
      throw err;
    });
    return out.trim() === '';
  })();
  return allowed;
}
