// The bare repositories on disk and the git operations the API performs on them.
// Layout: ROOT/objects.git (objects shared by seeded repositories through `alternates`) and
// ROOT/repos/OWNER/NAME.git.
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BatchObjectReader,
  LayeredObjectReader,
  listTreeRecursive,
} from './batch-object-reader.js';
import { analyseFastForward, type PullAnalysis } from './pull-analysis.js';
import { git, identityEnv, runGit, type GitIdentity } from './git.js';

export interface TreeEntry {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  sha: string;
  size: number | null;
  path: string;
}

export interface ChangedFile {
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  previous_filename?: string;
  additions: number;
  deletions: number;
  sha: string;
}

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: GitIdentity & { date: string };
  committer: GitIdentity & { date: string };
  message: string;
}

export interface DiffStats {
  commits: number;
  additions: number;
  deletions: number;
  changed_files: number;
}

/** Files to write (content) or delete (null), by path. */
export type FileChanges = Record<string, string | null>;

// alternateRefsCommand: the shared store has objects and no refs, so git's default (a
// `git for-each-ref` process in it, twice per push: the advertisement and the connectivity
// check) always lists nothing; `true` (run without a shell) lists the same nothing for less.
const REPO_CONFIG = `[core]
\trepositoryformatversion = 0
\tfilemode = true
\tbare = true
\talternateRefsCommand = true
[receive]
\tautogc = false
\tdenyDeleteCurrent = false
[gc]
\tauto = 0
[uploadpack]
\tallowAnySHA1InWant = true
`;

/** Longer histories are left to git. */
const MAX_COUNTED_IN_MEMORY = 10_000;

/** Branch names read from ref files: plain characters only (git's own rules are stricter still). */
const SAFE_BRANCH = /^[A-Za-z0-9._/-]{1,255}$/;

async function readPackedRefs(path: string): Promise<Map<string, string>> {
  const text = await readFile(join(path, 'packed-refs'), 'utf8').catch(() => '');
  const refs = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.startsWith('^') || line.length < 42) continue;
    refs.set(line.slice(41).trim(), line.slice(0, 40));
  }
  return refs;
}

/** How long a repository's object reader stays open after its last use. */
const READER_IDLE_MS = 10_000;

export class RepoStore {
  readonly sharedObjectsDir: string;
  private readonly locks = new Map<string, Promise<unknown>>();
  /**
   * Parents of the commits this process wrote (seeding, control pushes, merges): enough to count
   * a pull request's commits without spawning git, the whole cost of creating one.
   */
  private readonly knownParents = new Map<string, readonly string[]>();
  /** Reads the shared store's objects with one long-lived git process. */
  private sharedReader: BatchObjectReader | undefined;
  private readonly borrowing = new Map<string, Promise<boolean>>();

  constructor(readonly root: string) {
    this.sharedObjectsDir = join(root, 'objects.git');
  }

  /**
   * Readers of single repositories, for the analysis of their pull requests: kept open while a
   * burst of requests touches the repository (closed once idle), so those share one process.
   */
  private readonly repositoryReaders = new Map<
    string,
    {
      reader: LayeredObjectReader;
      own: BatchObjectReader;
      users: number;
      timer: NodeJS.Timeout | undefined;
    }
  >();

  /** Ends the git processes that read the shared store and repositories, if any were started. */
  close(): void {
    this.sharedReader?.close();
    this.sharedReader = undefined;
    for (const entry of this.repositoryReaders.values()) {
      clearTimeout(entry.timer);
      entry.own.close();
    }
    this.repositoryReaders.clear();
  }

  pathOf(owner: string, name: string): string {
    return join(this.root, 'repos', owner.toLowerCase(), `${name.toLowerCase()}.git`);
  }

  /** Creates the shared object store that seeded repositories borrow objects from. */
  async initSharedStore(): Promise<void> {
    await this.writeBareLayout(this.sharedObjectsDir, 'main', {});
  }

  /**
   * Creates a bare repository by writing its few files directly (no `git init` process), with
   * `refs` as its packed refs; with `borrowObjects` it reads objects from the shared store too.
   */
  async createBare(
    owner: string,
    name: string,
    defaultBranch: string,
    refs: Record<string, string> = {},
    borrowObjects = false,
  ): Promise<string> {
    const path = this.pathOf(owner, name);
    await this.writeBareLayout(path, defaultBranch, refs);
    if (borrowObjects) {
      await writeFile(
        join(path, 'objects', 'info', 'alternates'),
        `${join(this.sharedObjectsDir, 'objects')}\n`,
      );
    }
    return path;
  }

  /**
   * Creates a fork's bare repository with `refs` (the branches it starts with). As on GitHub, a
   * fork network shares its objects: the fork reads the source's objects (and through the
   * source's alternates the shared store's), and the source reads the fork's, so a pull request
   * from a fork can be analysed and merged in its base repository without copying the head.
   */
  async createFork(
    sourcePath: string,
    owner: string,
    name: string,
    defaultBranch: string,
    refs: Record<string, string>,
  ): Promise<string> {
    const path = this.pathOf(owner, name);
    await this.writeBareLayout(path, defaultBranch, refs);
    await writeFile(
      join(path, 'objects', 'info', 'alternates'),
      `${join(sourcePath, 'objects')}\n`,
    );
    const sourceAlternates = join(sourcePath, 'objects', 'info', 'alternates');
    const existing = await readFile(sourceAlternates, 'utf8').catch(() => '');
    await writeFile(
      sourceAlternates,
      `${existing}${existing === '' || existing.endsWith('\n') ? '' : '\n'}${join(path, 'objects')}\n`,
    );
    this.borrowing.delete(sourcePath);
    // A reader started before read the source's alternates without the fork: the next use
    // starts one that has it (the old one ends once its last user is done).
    const reader = this.repositoryReaders.get(sourcePath);
    this.repositoryReaders.delete(sourcePath);
    if (reader !== undefined && reader.users === 0) {
      clearTimeout(reader.timer);
      reader.own.close();
    }
    return path;
  }

  private async writeBareLayout(path: string, defaultBranch: string, refs: Record<string, string>) {
    await mkdir(join(path, 'objects', 'info'), { recursive: true });
    await mkdir(join(path, 'refs', 'heads'), { recursive: true });
    // The header promises sorted refs, so git binary-searches the file: sort them.
    const packed = Object.entries(refs)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([ref, sha]) => `${sha} ${ref}\n`)
      .join('');
    await Promise.all([
      writeFile(join(path, 'HEAD'), `ref: refs/heads/${defaultBranch}\n`),
      writeFile(join(path, 'config'), REPO_CONFIG),
      packed
        ? writeFile(
            join(path, 'packed-refs'),
            `# pack-refs with: peeled fully-peeled sorted \n${packed}`,
          )
        : null,
    ]);
  }

  async remove(owner: string, name: string): Promise<void> {
    this.borrowing.delete(this.pathOf(owner, name));
    await rm(this.pathOf(owner, name), { recursive: true, force: true });
  }

  /** Serialises writes to one repository (the API's own ref updates must not interleave). */
  async withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(path) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => {});
    this.locks.set(path, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(path) === settled) this.locks.delete(path);
    }
  }

  // ---- refs ----------------------------------------------------------------------------------

  async readRefs(path: string, prefix = 'refs/heads/'): Promise<Record<string, string>> {
    const out = await git(path, ['for-each-ref', '--format=%(objectname) %(refname)', prefix]);
    const refs: Record<string, string> = {};
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [sha, ref] = line.split(' ') as [string, string];
      refs[ref.slice(prefix.length)] = sha;
    }
    return refs;
  }

  /**
   * Where the named branches point, read from their ref files (a loose ref, else packed-refs),
   * without a git process: null for a branch that does not exist. Undefined when a name or a file
   * is not a plain branch ref; the caller then asks git (`readRefs`).
   */
  async readBranchFiles(
    path: string,
    branches: readonly string[],
  ): Promise<Record<string, string | null> | undefined> {
    const result: Record<string, string | null> = {};
    let packed: Map<string, string> | undefined;
    for (const branch of branches) {
      if (!SAFE_BRANCH.test(branch) || branch.split('/').some((p) => p === '' || p.startsWith('.')))
        return undefined;
      const loose = await readFile(join(path, 'refs', 'heads', branch), 'utf8').catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'EISDIR')
            return null;
          throw error;
        },
      );
      if (loose !== null) {
        const sha = loose.trim();
        if (!/^[0-9a-f]{40}$/.test(sha)) return undefined;
        result[branch] = sha;
        continue;
      }
      packed ??= await readPackedRefs(path);
      result[branch] = packed.get(`refs/heads/${branch}`) ?? null;
    }
    return result;
  }

  /** Resolves a branch, tag or sha to a commit sha, or null. */
  async resolveCommit(path: string, rev: string): Promise<string | null> {
    const { stdout, code } = await runGit(
      path,
      ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`],
      { okExitCodes: [1, 128] },
    );
    return code === 0 ? stdout.toString().trim() : null;
  }

  async objectType(path: string, sha: string): Promise<string | null> {
    const { stdout, code } = await runGit(path, ['cat-file', '-t', sha], { okExitCodes: [1, 128] });
    return code === 0 ? stdout.toString().trim() : null;
  }

  /** Sets a ref, refusing when it no longer points at `expectedOld` (GitHub's 422 "not a fast forward" races). */
  async updateRef(path: string, ref: string, sha: string, expectedOld?: string): Promise<void> {
    await git(path, ['update-ref', ref, sha, ...(expectedOld ? [expectedOld] : [])]);
  }

  async deleteRef(path: string, ref: string): Promise<void> {
    await git(path, ['update-ref', '-d', ref]);
  }

  async isAncestor(path: string, ancestor: string, descendant: string): Promise<boolean> {
    const { code } = await runGit(path, ['merge-base', '--is-ancestor', ancestor, descendant], {
      okExitCodes: [1],
    });
    return code === 0;
  }

  // ---- writing commits -----------------------------------------------------------------------

  /**
   * Commits `files` on top of `parent` (or as a root commit) with one `git fast-import` process
   * and returns the new commit's sha. The caller moves the branch.
   */
  async commitFiles(
    path: string,
    input: {
      parent: string | null;
      files: FileChanges;
      message: string;
      author: GitIdentity;
      committer?: GitIdentity;
    },
  ): Promise<string> {
    const committer = input.committer ?? input.author;
    const when = (id: GitIdentity) =>
      `${Math.floor((id.date ? Date.parse(id.date) : Date.now()) / 1000)} +0000`;
    const chunks: (string | Buffer)[] = [];
    const data = (content: string | Buffer) => {
      const buffer = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
      chunks.push(`data ${buffer.length}\n`, buffer, '\n');
    };
    // A scratch ref keeps fast-import from touching branches; the caller updates refs atomically.
    const scratch = `refs/github-sim/commit-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    chunks.push(`commit ${scratch}\nmark :1\n`);
    chunks.push(`author ${input.author.name} <${input.author.email}> ${when(input.author)}\n`);
    chunks.push(`committer ${committer.name} <${committer.email}> ${when(committer)}\n`);
    data(input.message);
    if (input.parent) chunks.push(`from ${input.parent}\n`);
    for (const [file, content] of Object.entries(input.files)) {
      if (content === null) {
        chunks.push(`D ${quotePath(file)}\n`);
      } else {
        chunks.push(`M 100644 inline ${quotePath(file)}\n`);
        data(content);
      }
    }
    chunks.push('\n');
    const input_ = Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c) ? c : Buffer.from(c))));
    await runGit(path, ['fast-import', '--quiet', '--force', '--done'], {
      input: Buffer.concat([input_, Buffer.from('done\n')]),
    });
    const sha = await git(path, ['rev-parse', scratch]);
    await git(path, ['update-ref', '-d', scratch]);
    return sha;
  }

  async commitTree(
    path: string,
    tree: string,
    parents: string[],
    message: string,
    author: GitIdentity,
    committer: GitIdentity = author,
  ): Promise<string> {
    const sha = await git(path, ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p])], {
      input: message,
      env: identityEnv(author, committer),
    });
    this.rememberCommit(sha, parents);
    return sha;
  }

  /** A three-way merge without a work tree: the merged tree, or null when it conflicts. */
  async mergeTrees(path: string, ours: string, theirs: string): Promise<string | null> {
    const { stdout, code } = await runGit(
      path,
      ['merge-tree', '--write-tree', '--allow-unrelated-histories', ours, theirs],
      { okExitCodes: [1] },
    );
    return code === 0 ? stdout.toString().split('\n')[0]!.trim() : null;
  }

  // ---- reading -------------------------------------------------------------------------------

  async readCommit(path: string, sha: string): Promise<CommitInfo> {
    const out = (
      await runGit(path, ['show', '-s', `--format=${COMMIT_FORMAT}`, sha])
    ).stdout.toString();
    return parseCommit(out);
  }

  /** Commits reachable from `head` and not from `exclude`, oldest first. */
  async listCommits(
    path: string,
    head: string,
    exclude: string[],
    limit?: number,
  ): Promise<CommitInfo[]> {
    const args = ['log', `--format=%x1e${COMMIT_FORMAT}`, head, ...exclude.map((e) => `^${e}`)];
    if (limit !== undefined) args.splice(1, 0, `--max-count=${limit}`);
    const out = (await runGit(path, args)).stdout.toString();
    return out
      .split('\x1e')
      .flatMap((record) => (record.trim() ? [parseCommit(record)] : []))
      .reverse();
  }

  /** Added, removed and modified paths of each commit (against its first parent), with one process. */
  async filesOfCommits(
    path: string,
    shas: string[],
  ): Promise<Map<string, { added: string[]; removed: string[]; modified: string[] }>> {
    const result = new Map<string, { added: string[]; removed: string[]; modified: string[] }>();
    if (shas.length === 0) return result;
    const out = (
      await runGit(path, [
        'log',
        '--no-walk=unsorted',
        '--root',
        '-m',
        '--first-parent',
        '--name-status',
        '--format=%x1e%H',
        ...shas,
      ])
    ).stdout.toString();
    for (const record of out.split('\x1e')) {
      const lines = record.split('\n').filter(Boolean);
      const sha = lines.shift();
      if (!sha) continue;
      const files = { added: [] as string[], removed: [] as string[], modified: [] as string[] };
      for (const line of lines) {
        const [status, ...paths] = line.split('\t');
        const file = paths[paths.length - 1]!;
        if (status === 'A') files.added.push(file);
        else if (status === 'D') files.removed.push(file);
        else files.modified.push(file);
      }
      result.set(sha, files);
    }
    return result;
  }

  /** Commits in `base..head`: counted in memory when every commit on the way is known, else by git. */
  async countCommits(path: string, base: string, head: string): Promise<number> {
    return (
      this.countKnownCommits(base, head) ??
      Number(await git(path, ['rev-list', '--count', `${base}..${head}`]))
    );
  }

  /** Records a commit this process wrote; its parents never change, so the record stays true. */
  rememberCommit(sha: string, parents: readonly string[]): void {
    this.knownParents.set(sha, parents);
  }

  /** `base..head` from remembered parents, or undefined when a commit on the way is not known. */
  private countKnownCommits(base: string, head: string): number | undefined {
    const reachable = (from: string, stop: ReadonlySet<string>): Set<string> | undefined => {
      const seen = new Set<string>();
      const queue = [from];
      while (queue.length > 0) {
        const sha = queue.pop()!;
        if (seen.has(sha) || stop.has(sha)) continue;
        const parents = this.knownParents.get(sha);
        if (parents === undefined || seen.size >= MAX_COUNTED_IN_MEMORY) return undefined;
        seen.add(sha);
        queue.push(...parents);
      }
      return seen;
    };
    const ofBase = reachable(base, new Set());
    return ofBase && reachable(head, ofBase)?.size;
  }

  /** Files changed between the merge base of `base` and `head`, and `head` (a pull request's diff). */
  async changedFiles(path: string, base: string, head: string): Promise<ChangedFile[]> {
    const mergeBase = await git(path, ['merge-base', base, head]).catch(() => base);
    const raw = (
      await runGit(path, ['diff-tree', '-r', '-z', '-M', '--raw', '--numstat', mergeBase, head])
    ).stdout.toString();
    return parseRawNumstat(raw);
  }

  /**
   * Statistics and mergeability of a pull request whose head is a few commits straight ahead of
   * its base, read without a git process of its own; undefined when git has to work it out.
   */
  async analysePull(path: string, base: string, head: string): Promise<PullAnalysis | undefined> {
    return this.withReader(path, (reader) =>
      analyseFastForward(reader, base, head).catch(() => undefined),
    );
  }

  /**
   * Runs `use` with the repository's object reader (`LayeredObjectReader`): what it was just
   * pushed, the shared store's long-lived `git cat-file`, then its own, started on first use and
   * ended after READER_IDLE_MS unused: a fetch, the push after it and the pull request opened
   * then share it, and for a seeded repository usually start no process at all.
   */
  async withReader<T>(path: string, use: (reader: LayeredObjectReader) => Promise<T>): Promise<T> {
    let entry = this.repositoryReaders.get(path);
    if (entry === undefined) {
      const own = new BatchObjectReader(path);
      const shared = (await this.borrowsSharedObjects(path))
        ? (this.sharedReader ??= new BatchObjectReader(this.sharedObjectsDir))
        : undefined;
      // Looked up again: another request may have made it while this one waited.
      entry = this.repositoryReaders.get(path) ?? {
        reader: new LayeredObjectReader(shared, own),
        own,
        users: 0,
        timer: undefined,
      };
      this.repositoryReaders.set(path, entry);
    }
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.users++;
    try {
      return await use(entry.reader);
    } finally {
      entry.users--;
      if (entry.users === 0) {
        const idle = entry;
        idle.timer = setTimeout(() => {
          if (this.repositoryReaders.get(path) === idle) this.repositoryReaders.delete(path);
          idle.own.close();
        }, READER_IDLE_MS);
        idle.timer.unref();
      }
    }
  }

  async diffStats(path: string, base: string, head: string): Promise<DiffStats> {
    const [commits, files] = await Promise.all([
      this.countCommits(path, base, head),
      this.changedFiles(path, base, head),
    ]);
    return {
      commits,
      additions: files.reduce((n, f) => n + f.additions, 0),
      deletions: files.reduce((n, f) => n + f.deletions, 0),
      changed_files: files.length,
    };
  }

  async lsTree(path: string, treeish: string, recursive: boolean): Promise<TreeEntry[]> {
    const args = ['ls-tree', '-z', '--long', ...(recursive ? ['-r', '-t'] : []), treeish];
    const out = (await runGit(path, args)).stdout.toString();
    return out
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf('\t');
        const [mode, type, sha, size] = line.slice(0, tab).split(/\s+/) as [
          string,
          string,
          string,
          string,
        ];
        return {
          mode,
          type: type as TreeEntry['type'],
          sha,
          size: size === '-' ? null : Number(size),
          path: line.slice(tab + 1),
        };
      });
  }

  /**
   * The tree of a commit (or tree) and its entries as `git ls-tree [-r -t] --long` lists them.
   * For a seeded repository whose objects are still the shared store's, read through one
   * long-lived process; otherwise (or when that cannot read them) by two git processes. Null when
   * `treeish` names no commit or tree.
   */
  async listTree(
    path: string,
    treeish: string,
    recursive: boolean,
  ): Promise<{ tree: string; entries: TreeEntry[] } | null> {
    if (/^[0-9a-f]{40}$/.test(treeish) && (await this.borrowsSharedObjects(path))) {
      this.sharedReader ??= new BatchObjectReader(this.sharedObjectsDir);
      const listed = await listTreeRecursive(this.sharedReader, treeish).catch(() => undefined);
      if (listed !== undefined) {
        return recursive
          ? listed
          : { tree: listed.tree, entries: listed.entries.filter((e) => !e.path.includes('/')) };
      }
    }
    const tree = await this.treeOf(path, treeish);
    return tree === null ? null : { tree, entries: await this.lsTree(path, tree, recursive) };
  }

  private borrowsSharedObjects(path: string): Promise<boolean> {
    let borrows = this.borrowing.get(path);
    if (borrows === undefined) {
      borrows = access(join(path, 'objects', 'info', 'alternates')).then(
        () => true,
        () => false,
      );
      this.borrowing.set(path, borrows);
    }
    return borrows;
  }

  /** The tree sha of a commit or tree-ish. */
  async treeOf(path: string, treeish: string): Promise<string | null> {
    const { stdout, code } = await runGit(
      path,
      ['rev-parse', '--verify', '--quiet', `${treeish}^{tree}`],
      {
        okExitCodes: [1, 128],
      },
    );
    return code === 0 ? stdout.toString().trim() : null;
  }

  async readBlob(path: string, sha: string): Promise<Buffer> {
    return (await runGit(path, ['cat-file', 'blob', sha])).stdout;
  }

  /** Reads many blobs with one process. */
  async readBlobs(path: string, shas: string[]): Promise<Map<string, Buffer>> {
    const result = new Map<string, Buffer>();
    if (shas.length === 0) return result;
    const out = (await runGit(path, ['cat-file', '--batch'], { input: shas.join('\n') + '\n' }))
      .stdout;
    let offset = 0;
    while (offset < out.length) {
      const nl = out.indexOf(10, offset);
      const header = out.subarray(offset, nl).toString();
      const [sha, type, size] = header.split(' ') as [string, string, string];
      if (type === 'missing') {
        offset = nl + 1;
        continue;
      }
      const length = Number(size);
      result.set(sha, out.subarray(nl + 1, nl + 1 + length));
      offset = nl + 1 + length + 1;
    }
    return result;
  }
}

const COMMIT_FORMAT = ['%H', '%T', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join(
  '%x00',
);

function parseCommit(record: string): CommitInfo {
  const [sha, tree, parents, an, ae, ad, cn, ce, cd, ...message] = record.split('\0');
  return {
    sha: sha!.trim(),
    tree: tree!,
    parents: parents ? parents.split(' ').filter(Boolean) : [],
    author: { name: an!, email: ae!, date: ad! },
    committer: { name: cn!, email: ce!, date: cd! },
    message: message.join('\0').replace(/\n+$/, ''),
  };
}

const STATUS: Record<string, ChangedFile['status']> = {
  A: 'added',
  D: 'removed',
  M: 'modified',
  R: 'renamed',
  C: 'copied',
  T: 'changed',
};

/** Parses `diff-tree -z --raw --numstat` output: raw records first, then numstat records. */
function parseRawNumstat(out: string): ChangedFile[] {
  const tokens = out.split('\0');
  const files: ChangedFile[] = [];
  let i = 0;
  while (i < tokens.length && tokens[i]!.startsWith(':')) {
    const fields = tokens[i]!.slice(1).split(' ');
    const letter = fields[4]![0]!;
    const sha = fields[3]!;
    if (letter === 'R' || letter === 'C') {
      files.push({
        filename: tokens[i + 2]!,
        previous_filename: tokens[i + 1]!,
        status: STATUS[letter]!,
        additions: 0,
        deletions: 0,
        sha,
      });
      i += 3;
    } else {
      const removed = letter === 'D';
      files.push({
        filename: tokens[i + 1]!,
        status: STATUS[letter] ?? 'modified',
        additions: 0,
        deletions: 0,
        sha: removed ? fields[2]! : sha,
      });
      i += 2;
    }
  }
  // numstat: "added\tdeleted\tpath" or, for renames, "added\tdeleted\t" followed by two paths.
  let index = 0;
  while (i < tokens.length && index < files.length) {
    const token = tokens[i]!;
    if (!token) {
      i++;
      continue;
    }
    const [added, deleted, name] = token.split('\t') as [string, string, string];
    const file = files[index++]!;
    file.additions = added === '-' ? 0 : Number(added);
    file.deletions = deleted === '-' ? 0 : Number(deleted);
    i += name === '' ? 3 : 1;
  }
  return files;
}

/** fast-import path quoting: C-style quotes when a path has spaces, quotes or newlines. */
function quotePath(path: string): string {
  return /[\s"\\]/.test(path) ? JSON.stringify(path) : path;
}
