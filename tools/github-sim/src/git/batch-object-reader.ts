// Reads objects through one long-lived `git cat-file --batch-command` instead of a process per
// request: the seeded repositories borrow every object of their first commit from the shared
// store, so listing one of their trees costs a few pipe round trips, not two git processes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { gitEnv } from './git.js';
import type { TreeEntry } from './repo-store.js';

export interface GitObject {
  type: string;
  size: number;
  /** The content, for `contents`; undefined for `info`. */
  data?: Buffer;
}

interface Pending {
  command: 'info' | 'contents';
  resolve: (object: GitObject | undefined) => void;
  reject: (error: Error) => void;
}

/** Reads objects by id; undefined for one it does not have. */
export interface ObjectReader {
  read(command: 'info' | 'contents', ids: readonly string[]): Promise<(GitObject | undefined)[]>;
  /** Objects the repository was just given (a push the simulator stored itself), if kept. */
  remember?(objects: Iterable<{ id: string; type: string; data: Buffer }>): void;
}

/**
 * A repository's objects, looked for in objects it was just pushed (kept in memory), then in the
 * store the seeded repositories share (one process for them all), and only then in the
 * repository itself, whose `git cat-file` starts on first use. A fetch of a seeded commit, the
 * push after it and the pull request opened on it start no process of their own: a
 * `cat-file` per repository, forked from this large process, was a fifth of its busy time.
 */
export class LayeredObjectReader implements ObjectReader {
  readonly #recent = new Map<string, GitObject>();

  constructor(
    private readonly shared: ObjectReader | undefined,
    private readonly own: ObjectReader,
  ) {}

  remember(objects: Iterable<{ id: string; type: string; data: Buffer }>): void {
    for (const o of objects)
      this.#recent.set(o.id, { type: o.type, size: o.data.length, data: o.data });
  }

  async read(
    command: 'info' | 'contents',
    ids: readonly string[],
  ): Promise<(GitObject | undefined)[]> {
    const found: (GitObject | undefined)[] = ids.map((id) => {
      const o = this.#recent.get(id);
      return o && (command === 'contents' ? o : { type: o.type, size: o.size });
    });
    for (const layer of this.shared ? [this.shared, this.own] : [this.own]) {
      const missing = ids.flatMap((_, i) => (found[i] === undefined ? [i] : []));
      if (missing.length === 0) break;
      const read = await layer.read(
        command,
        missing.map((i) => ids[i]!),
      );
      missing.forEach((i, k) => (found[i] = read[k]));
    }
    return found;
  }
}

/** `git cat-file --batch-command --buffer` over one repository (or object store). */
export class BatchObjectReader implements ObjectReader {
  #child: ChildProcessWithoutNullStreams | undefined;
  #pending: Pending[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #failure: Error | undefined;

  constructor(readonly gitDir: string) {}

  /** Objects by id, in one round trip; undefined for an object the store does not have. */
  read(command: 'info' | 'contents', ids: readonly string[]): Promise<(GitObject | undefined)[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const invalid = ids.find((id) => !/^[0-9a-f]{40}$/.test(id));
    if (invalid !== undefined) return Promise.reject(new Error(`not an object id: ${invalid}`));
    // A reader that failed once (no git ≥ 2.36, a killed process) stays failed: callers fall back.
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const child = this.#start();
    // Answers come in the order of the commands: queue one per id, then send them all at once.
    const results = ids.map(
      () =>
        new Promise<GitObject | undefined>((resolve, reject) => {
          this.#pending.push({ command, resolve, reject });
        }),
    );
    child.stdin.write(ids.map((id) => `${command} ${id}\n`).join('') + 'flush\n');
    return Promise.all(results);
  }

  close(): void {
    this.#child?.stdin.end();
    this.#child?.kill();
    this.#child = undefined;
  }

  #start(): ChildProcessWithoutNullStreams {
    if (this.#child !== undefined) return this.#child;
    const child = spawn('git', ['cat-file', '--batch-command', '--buffer'], {
      cwd: this.gitDir,
      env: gitEnv({ GIT_DIR: this.gitDir }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const fail = (error: Error) => {
      this.#failure = error;
      for (const pending of this.#pending.splice(0)) pending.reject(error);
      this.#child = undefined;
    };
    child.on('error', fail);
    child.on('exit', (code) => {
      if (this.#child === child) fail(new Error(`git cat-file exited with ${code}`));
    });
    child.stdin.on('error', () => undefined);
    child.stderr.resume();
    child.stdout.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#drain();
    });
    this.#child = child;
    return child;
  }

  #drain(): void {
    for (;;) {
      const pending = this.#pending[0];
      if (pending === undefined) return;
      const newline = this.#buffer.indexOf(10);
      if (newline < 0) return;
      const header = this.#buffer.subarray(0, newline).toString('utf8');
      const [, type, size] = header.split(' ');
      if (type === 'missing' || type === 'ambiguous' || size === undefined) {
        this.#buffer = this.#buffer.subarray(newline + 1);
        this.#pending.shift();
        pending.resolve(undefined);
        continue;
      }
      const length = Number(size);
      if (pending.command === 'info') {
        this.#buffer = this.#buffer.subarray(newline + 1);
        this.#pending.shift();
        pending.resolve({ type: type!, size: length });
        continue;
      }
      // Header, content, then a newline.
      if (this.#buffer.length < newline + 1 + length + 1) return;
      const data = Buffer.from(this.#buffer.subarray(newline + 1, newline + 1 + length));
      this.#buffer = this.#buffer.subarray(newline + 1 + length + 1);
      this.#pending.shift();
      pending.resolve({ type: type!, size: length, data });
    }
  }
}

/**
 * `git ls-tree -r -t --long` of a commit or tree through the reader, with the root tree's id;
 * undefined when the reader's store lacks one of the objects (the caller asks git instead).
 */
export async function listTreeRecursive(
  reader: ObjectReader,
  commitOrTree: string,
): Promise<{ tree: string; entries: TreeEntry[] } | undefined> {
  const [root] = await reader.read('contents', [commitOrTree]);
  if (root === undefined) return undefined;
  let rootTree = commitOrTree;
  if (root.type === 'commit') {
    const match = /^tree ([0-9a-f]{40})$/m.exec(root.data!.toString('utf8'));
    if (match === null) return undefined;
    rootTree = match[1]!;
  } else if (root.type !== 'tree') {
    return undefined;
  }

  // Every tree, level by level (one round trip each), then the blobs' sizes in one more.
  const trees = new Map<string, RawEntry[]>();
  let level = [rootTree];
  while (level.length > 0) {
    const wanted = [...new Set(level)].filter((id) => !trees.has(id));
    const objects = await reader.read('contents', wanted);
    const next: string[] = [];
    for (const [i, object] of objects.entries()) {
      if (object === undefined || object.type !== 'tree') return undefined;
      const entries = parseTree(object.data!);
      trees.set(wanted[i]!, entries);
      for (const entry of entries) if (entry.type === 'tree') next.push(entry.sha);
    }
    level = next;
  }
  const uniqueBlobs = [
    ...new Set(
      [...trees.values()].flatMap((entries) =>
        entries.filter((e) => e.type === 'blob').map((e) => e.sha),
      ),
    ),
  ];
  const infos = await reader.read('info', uniqueBlobs);
  const sizes = new Map<string, number>();
  for (const [i, info] of infos.entries()) {
    if (info === undefined) return undefined;
    sizes.set(uniqueBlobs[i]!, info.size);
  }

  // In ls-tree's order: each tree's entries as stored, a tree before what it holds.
  const entries: TreeEntry[] = [];
  const walk = (id: string, prefix: string) => {
    for (const entry of trees.get(id)!) {
      const path = `${prefix}${entry.name}`;
      entries.push({
        mode: entry.mode,
        type: entry.type,
        sha: entry.sha,
        size: entry.type === 'blob' ? sizes.get(entry.sha)! : null,
        path,
      });
      if (entry.type === 'tree') walk(entry.sha, `${path}/`);
    }
  };
  walk(rootTree, '');
  return { tree: rootTree, entries };
}

export interface RawEntry {
  mode: string;
  type: TreeEntry['type'];
  name: string;
  sha: string;
}

/** A tree object's entries: `<mode> <name>\0<20-byte id>` each, modes as ls-tree prints them. */
export function parseTree(data: Buffer): RawEntry[] {
  const entries: RawEntry[] = [];
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(32, offset);
    const nul = data.indexOf(0, space);
    const mode = data.subarray(offset, space).toString('ascii').padStart(6, '0');
    const name = data.subarray(space + 1, nul).toString('utf8');
    const sha = data.subarray(nul + 1, nul + 21).toString('hex');
    const type = mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
    entries.push({ mode, type, name, sha });
    offset = nul + 21;
  }
  return entries;
}
