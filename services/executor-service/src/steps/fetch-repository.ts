import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fetchShallowCommit, UploadPackRefusedError } from '@campaigns/codehost';
import { git, gitTokenEnv } from './git.js';
import { DamagedPackError, packIndex, readPack, type GitObject } from './git-objects.js';
import { checkoutInNode, nodeStagingAllowed, type NodeStage } from './node-workspace.js';
import { withStoreFileLock, withStoreLock } from './store-lock.js';
import { sparseCheckoutPatterns, type WorkspaceScope } from './workspace-scope.js';

export interface EnsureCommitOptions {
  /** Clone URL of the repository (https://…, or a local path in tests). */
  readonly url: string;
  /** HOST/OWNER/NAME; names the store in the cache. */
  readonly repository: string;
  /** The base commit (a full id; a ref works too, and is always fetched). */
  readonly revision: string;
  /** Directory that holds one bare object store per repository, reused across executions. */
  readonly cacheDir: string;
  /** Token for the code host: an HTTP header only, never in a URL, argv or file. */
  readonly token?: string;
}

/** How the store got the commit: already there, one shallow request, or git's own fetch. */
export type StoreSource = 'cached' | 'shallow' | 'git-fetch';

export interface StoredCommit {
  /** The bare store holding the commit (and the objects workspaces borrow). */
  readonly storeDir: string;
  /** The full commit id. */
  readonly baseRevision: string;
  readonly source: StoreSource;
  /**
   * The objects of the pack the commit just came in, when this call fetched it and read the
   * pack in Node: the checkout is written from them (`checkoutWorkspace`) instead of by git.
   */
  readonly objects?: ReadonlyMap<string, GitObject>;
}

export interface FetchRepositoryOptions extends EnsureCommitOptions {
  /** Where to check the revision out; must not exist yet, or be empty. */
  readonly workspaceDir: string;
  /** Check out only this workspace (`onlyFetchWorkspace`, see workspace-scope.ts). */
  readonly scope?: WorkspaceScope | null;
}

export interface FetchedRepository extends StoredCommit {
  readonly workspaceDir: string;
  /** The workspace's staged state kept in memory, when it was checked out in Node (else null: git's index). */
  readonly stage: NodeStage | null;
}

export function storeDirectory(cacheDir: string, repository: string): string {
  return join(cacheDir, `${repository.replace(/[^A-Za-z0-9._-]+/g, '_')}.git`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const FULL_ID = /^[0-9a-f]{40}$/;
/** A ref per commit the store was asked for: found without spawning git, and kept from any gc. */
const BASE_REFS = 'refs/campaigns/bases';
/** Written when this code created the store: its commits all have a ref under BASE_REFS. */
const STORE_MARK = 'campaigns-store';

function baseRef(storeDir: string, commit: string): string {
  return join(storeDir, BASE_REFS, commit);
}

/** `git init --bare` by hand is a few files; made beside the final name and renamed into place. */
async function createStore(storeDir: string): Promise<void> {
  const partial = `${storeDir}.partial-${process.pid}-${Date.now()}`;
  try {
    await mkdir(join(partial, 'objects', 'pack'), { recursive: true });
    await mkdir(join(partial, 'objects', 'info'), { recursive: true });
    await mkdir(join(partial, BASE_REFS), { recursive: true });
    await mkdir(join(partial, 'refs', 'heads'), { recursive: true });
    await mkdir(join(partial, 'refs', 'tags'), { recursive: true });
    await writeFile(join(partial, 'HEAD'), 'ref: refs/heads/main\n');
    // gc would prune what no ref names and repack under running workspaces: never automatically.
    await writeFile(
      join(partial, 'config'),
      '[core]\n\trepositoryformatversion = 0\n\tbare = true\n[gc]\n\tauto = 0\n',
    );
    await writeFile(join(partial, STORE_MARK), '');
    await rename(partial, storeDir).catch(async (err: unknown) => {
      // Another process may have won the race; its store is as good as ours.
      if (!(await exists(storeDir))) throw err;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

async function hasCommit(storeDir: string, commit: string): Promise<boolean> {
  if (await exists(baseRef(storeDir, commit))) return true;
  // Stores made before the refs existed (or by git) are asked.
  if (await exists(join(storeDir, STORE_MARK))) return false;
  try {
    await git(['cat-file', '-e', `${commit}^{commit}`], { cwd: storeDir });
    return true;
  } catch {
    return false;
  }
}

async function recordBase(storeDir: string, commit: string): Promise<void> {
  await mkdir(join(storeDir, BASE_REFS), { recursive: true });
  await writeFile(baseRef(storeDir, commit), `${commit}\n`);
}

/** Adds commits to the store's `shallow` file (git's list of commits whose parents are absent). */
async function recordShallow(storeDir: string, commits: readonly string[]): Promise<void> {
  if (commits.length === 0) return;
  const path = join(storeDir, 'shallow');
  const known = new Set((await readFile(path, 'utf8').catch(() => '')).split('\n'));
  const added = commits.filter((c) => !known.has(c));
  if (added.length > 0) await appendFile(path, added.map((c) => `${c}\n`).join(''));
}

/** A pack up to this size is read in Node; a larger one goes to `git index-pack` from a file. */
const NODE_PACK_MAX_BYTES = 16 * 1024 * 1024;
/** …and so does one whose objects inflate to more than this. */
const NODE_PACK_MAX_INFLATED_BYTES = 64 * 1024 * 1024;

function endedEarly(err: unknown): Error {
  return new Error(`the pack from the code host ended early: ${(err as Error).message}`, {
    cause: err,
  });
}

/**
 * Puts the fetched pack into the store. Up to NODE_PACK_MAX_BYTES it is read in Node (deltas
 * resolved, every object hashed), written with the `.idx` git needs beside it, and its objects
 * are returned for the checkout; a larger one goes through `indexPack`. An answer cut short is
 * refused before anything is stored.
 */
async function storePack(
  storeDir: string,
  pack: AsyncIterable<Uint8Array>,
): Promise<ReadonlyMap<string, GitObject> | null> {
  const iterator = pack[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await iterator.next();
      if (done) break;
      chunks.push(Buffer.from(value));
      size += value.length;
      if (size > NODE_PACK_MAX_BYTES) {
        await indexPack(storeDir, rest(chunks, iterator));
        return null;
      }
    }
  } catch (err) {
    throw endedEarly(err);
  }
  const whole = Buffer.concat(chunks, size);
  let read;
  try {
    read = readPack(whole, { maxInflatedBytes: NODE_PACK_MAX_INFLATED_BYTES });
  } catch (err) {
    if (err instanceof DamagedPackError)
      throw new Error(`the pack from the code host is damaged: ${err.message}`, { cause: err });
    throw err;
  }
  if (read === null) {
    await indexPack(storeDir, rest([whole], iterator));
    return null;
  }
  const name = join(storeDir, 'objects', 'pack', `pack-${read.checksum.toString('hex')}`);
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  // The pack before its index: git looks a pack up through its `.idx`.
  await writeFile(`${name}.pack${suffix}`, whole, { mode: 0o444 });
  await rename(`${name}.pack${suffix}`, `${name}.pack`);
  await writeFile(`${name}.idx${suffix}`, packIndex(read.entries, read.checksum), { mode: 0o444 });
  await rename(`${name}.idx${suffix}`, `${name}.idx`);
  return read.objects;
}

async function* rest(
  head: readonly Buffer[],
  iterator: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield* head;
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) return;
    yield value;
  }
}

/**
 * Puts a pack into the store with one `git index-pack --stdin`: the answer is written to a file
 * in the store first (git runs in a helper, which reads its input from a file), then indexed and
 * removed. An answer cut short is refused before git sees it; one whose checksum is in but whose
 * end is late is whole, and kept.
 */
async function indexPack(storeDir: string, pack: AsyncIterable<Uint8Array>): Promise<void> {
  const incoming = join(storeDir, `incoming-${process.pid}-${randomBytes(6).toString('hex')}.pack`);
  try {
    await pipeline(pack, createWriteStream(incoming, { mode: 0o600 })).catch((err: unknown) => {
      throw endedEarly(err);
    });
    await git(['index-pack', '--stdin'], {
      cwd: storeDir,
      inputFile: incoming,
      discardOutput: true,
    });
  } finally {
    await rm(incoming, { force: true });
  }
}

/** Git's own fetch of the branches and tags, for a ref or a commit the one request could not get. */
async function gitFetch(storeDir: string, url: string, token: string | undefined): Promise<void> {
  await git(
    [
      'fetch',
      '--quiet',
      '--prune',
      '--',
      url,
      '+refs/heads/*:refs/heads/*',
      '+refs/tags/*:refs/tags/*',
    ],
    { cwd: storeDir, env: gitTokenEnv(token) },
  );
}

/**
 * Makes sure the repository's store holds the commit. A full commit id over HTTP(S) is fetched
 * alone, depth 1, in one request (`fetchShallowCommit`); a ref, a local path, or a server that
 * refuses that request goes through `git fetch` of the branches and tags.
 */
export async function ensureCommit(options: EnsureCommitOptions): Promise<StoredCommit> {
  const storeDir = storeDirectory(options.cacheDir, options.repository);
  const wanted = FULL_ID.test(options.revision) ? options.revision : null;
  if (wanted && (await exists(baseRef(storeDir, wanted)))) {
    return { storeDir, baseRevision: wanted, source: 'cached' };
  }
  await mkdir(options.cacheDir, { recursive: true });
  return withStoreLock(storeDir, () =>
    withStoreFileLock(storeDir, async () => {
      if (!(await exists(storeDir))) await createStore(storeDir);
      if (wanted && (await hasCommit(storeDir, wanted))) {
        await recordBase(storeDir, wanted);
        return { storeDir, baseRevision: wanted, source: 'cached' as const };
      }
      if (wanted && /^https?:\/\//.test(options.url)) {
        try {
          const { shallow, pack } = await fetchShallowCommit({
            url: options.url,
            commit: wanted,
            ...(options.token ? { token: options.token } : {}),
          });
          const objects = await storePack(storeDir, pack);
          await recordShallow(storeDir, shallow);
          await recordBase(storeDir, wanted);
          return {
            storeDir,
            baseRevision: wanted,
            source: 'shallow' as const,
            ...(objects ? { objects } : {}),
          };
        } catch (err) {
          if (!(err instanceof UploadPackRefusedError)) throw err;
        }
      }
      await gitFetch(storeDir, options.url, options.token);
      const baseRevision = (
        await git(['rev-parse', '--verify', `${options.revision}^{commit}`], { cwd: storeDir })
      ).trim();
      await recordBase(storeDir, baseRevision);
      return { storeDir, baseRevision, source: 'git-fetch' as const };
    }),
  );
}

/** The shallow commits of the store, for a workspace that borrows its objects. */
async function shallowList(storeDir: string): Promise<string | null> {
  return readFile(join(storeDir, 'shallow'), 'utf8').catch(() => null);
}

/**
 * Lays out `workspaceDir/.git` by hand (HEAD detached at the commit, the store's objects as an
 * alternate, its shallow list) and checks the commit out: from the fetched pack's objects in
 * Node when `stored` has them (returning the staged state, see node-workspace.ts), else with one
 * `git read-tree -u --reset` (returning null: the index is git's). `workspaceDir` must be empty
 * or absent. Delete the workspace when done; never gc the store while workspaces borrow its
 * objects.
 *
 * With a `scope`, only the files in it are written (workspace-scope.ts); the others are
 * skip-worktree in the index, and the workspace is a git sparse checkout of the scope's
 * patterns (also when Node checks it out, for git to go on from should it take over staging).
 */
export async function checkoutWorkspace(
  stored: StoredCommit,
  workspaceDir: string,
  scope: WorkspaceScope | null = null,
): Promise<NodeStage | null> {
  const gitDir = join(workspaceDir, '.git');
  await mkdir(join(gitDir, 'objects', 'info'), { recursive: true });
  await mkdir(join(gitDir, 'refs', 'heads'), { recursive: true });
  if (scope) await mkdir(join(gitDir, 'info'), { recursive: true });
  await Promise.all([
    writeFile(join(gitDir, 'HEAD'), `${stored.baseRevision}\n`),
    writeFile(
      join(gitDir, 'config'),
      `[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = false\n${scope ? '\tsparseCheckout = true\n\tsparseCheckoutCone = false\n' : ''}[gc]\n\tauto = 0\n`,
    ),
    scope
      ? writeFile(join(gitDir, 'info', 'sparse-checkout'), sparseCheckoutPatterns(scope))
      : undefined,
    writeFile(
      join(gitDir, 'objects', 'info', 'alternates'),
      `${join(stored.storeDir, 'objects')}\n`,
    ),
    shallowList(stored.storeDir).then((list) =>
      list === null ? undefined : writeFile(join(gitDir, 'shallow'), list),
    ),
  ]);
  if (stored.objects && (await nodeStagingAllowed())) {
    const stage = await checkoutInNode(stored.objects, stored.baseRevision, workspaceDir, scope);
    if (stage) return stage;
  }
  await git(['read-tree', '-u', '--reset', stored.baseRevision], {
    cwd: workspaceDir,
    discardOutput: true,
  });
  return null;
}

/** `ensureCommit`, then `checkoutWorkspace` into `workspaceDir`. */
export async function fetchRepository(options: FetchRepositoryOptions): Promise<FetchedRepository> {
  const stored = await ensureCommit(options);
  const stage = await checkoutWorkspace(stored, options.workspaceDir, options.scope ?? null);
  return { ...stored, workspaceDir: options.workspaceDir, stage };
}
