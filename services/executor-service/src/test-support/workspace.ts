import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkoutWorkspace,
  ensureCommit,
  type FetchedRepository,
  type FetchRepositoryOptions,
  type WorkspaceScope,
} from '../steps/index.js';
import { readPack, type GitObject } from '../steps/git-objects.js';
import { createRemoteRepository, type RemoteRepository } from './git-fixtures.js';

/**
 * How a scratch checks a workspace out: `git` as for a commit already in the store (`git
 * read-tree`, staged in git's index), `node` as for one just fetched in one request (the pack's
 * objects written by Node, staged in memory).
 */
export type CheckoutMode = 'git' | 'node';

/** The objects of a commit and all it reaches, from a pack git makes of them (with deltas). */
export async function commitObjects(
  repoDir: string,
  commit: string,
): Promise<Map<string, GitObject>> {
  const child = spawn('git', ['pack-objects', '--revs', '--stdout', '-q'], { cwd: repoDir });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stdin.end(`${commit}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`git pack-objects exited with ${code}`);
  return readPack(Buffer.concat(chunks), { maxInflatedBytes: 1 << 30 })!.objects;
}

/**
 * `fetchRepository`, checking out as `mode` says: in `node` mode the commit's objects (read from
 * a pack of the store) are handed to the checkout as a one-request fetch hands them.
 */
export async function fetchAs(
  mode: CheckoutMode,
  options: FetchRepositoryOptions,
): Promise<FetchedRepository> {
  const stored = await ensureCommit(options);
  const withObjects =
    mode === 'node'
      ? { ...stored, objects: await commitObjects(stored.storeDir, stored.baseRevision) }
      : stored;
  const stage = await checkoutWorkspace(withObjects, options.workspaceDir, options.scope ?? null);
  if (mode === 'node' && stage === null) throw new Error('the Node checkout handed over to git');
  return { ...stored, workspaceDir: options.workspaceDir, stage };
}

/** A scratch directory per test file, with a mirror cache and room for workspaces. */
export interface Scratch {
  readonly dir: string;
  readonly cacheDir: string;
  /** A fresh remote with `files` and a workspace checked out at its head (only `scope`'s part, given one). */
  checkout(
    files: Record<string, string>,
    scope?: WorkspaceScope | null,
  ): Promise<FetchedRepository & { remote: RemoteRepository }>;
  remove(): Promise<void>;
}

export async function createScratch(mode: CheckoutMode = 'git'): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), 'campaigns-steps-'));
  const cacheDir = join(dir, 'mirrors');
  let count = 0;
  return {
    dir,
    cacheDir,
    async checkout(files, scope = null) {
      const n = ++count;
      const remote = await createRemoteRepository(files, await mkdtemp(join(dir, 'remote-')));
      const fetched = await fetchAs(mode, {
        url: remote.url,
        repository: `example.com/acme/repo-${n}`,
        revision: remote.head,
        cacheDir,
        workspaceDir: join(dir, `workspace-${n}`),
        scope,
      });
      return { ...fetched, remote };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
