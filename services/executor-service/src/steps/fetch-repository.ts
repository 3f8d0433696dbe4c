import { mkdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { git, gitTokenEnv } from './git.js';

export interface FetchRepositoryOptions {
  /** Clone URL of the repository (https://…, or a local path in tests). */
  readonly url: string;
  /** HOST/OWNER/NAME; names the mirror in the cache. */
  readonly repository: string;
  /** The base commit (or a ref) to check out. */
  readonly revision: string;
  /** Directory that holds one bare mirror per repository, reused across executions. */
  readonly cacheDir: string;
  /** Where to check the revision out; must not exist yet. */
  readonly workspaceDir: string;
  /** Token for the code host, sent as an HTTP header through the environment only. */
  readonly token?: string;
}

export interface FetchedRepository {
  readonly workspaceDir: string;
  /** The full commit id that was checked out. */
  readonly baseRevision: string;
  /** How the mirror got the revision: cloned now, fetched incrementally, or already present. */
  readonly mirror: 'cloned' | 'fetched' | 'cached';
  readonly mirrorDir: string;
}

const mirrorLocks = new Map<string, Promise<unknown>>();

/** Runs `task` after any earlier task on the same mirror in this process has finished. */
function withMirrorLock<T>(mirrorDir: string, task: () => Promise<T>): Promise<T> {
  const previous = mirrorLocks.get(mirrorDir) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => undefined);
  mirrorLocks.set(mirrorDir, settled);
  void settled.then(() => {
    if (mirrorLocks.get(mirrorDir) === settled) mirrorLocks.delete(mirrorDir);
  });
  return next;
}

/** A mirror lock whose holder has not touched it for this long is taken to be left by a dead process. */
export const MIRROR_LOCK_STALE_MS = 2 * 60_000;
const LOCK_HEARTBEAT_MS = 20_000;
const LOCK_POLL_MS = 100;

/**
 * Runs `task` holding `${mirrorDir}.lock` (a directory: mkdir is atomic), so executor processes
 * sharing a cache never clone or fetch one mirror at once. The holder refreshes the lock's time
 * while it works; a lock not refreshed for MIRROR_LOCK_STALE_MS (a killed process) is taken over.
 */
async function withMirrorFileLock<T>(mirrorDir: string, task: () => Promise<T>): Promise<T> {
  const lockDir = `${mirrorDir}.lock`;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lockDir).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > MIRROR_LOCK_STALE_MS) await rm(lockDir, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(lockDir, now, now).catch(() => undefined);
  }, LOCK_HEARTBEAT_MS);
  try {
    return await task();
  } finally {
    clearInterval(heartbeat);
    await rm(lockDir, { recursive: true, force: true });
  }
}

export function mirrorDirectory(cacheDir: string, repository: string): string {
  return join(cacheDir, `${repository.replace(/[^A-Za-z0-9._-]+/g, '_')}.git`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function hasCommit(mirrorDir: string, revision: string): Promise<boolean> {
  // Only a full commit id can be trusted from the cache; a ref may have moved on the remote.
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(revision)) return false;
  try {
    await git(['cat-file', '-e', `${revision}^{commit}`], { cwd: mirrorDir });
    return true;
  } catch {
    return false;
  }
}

/**
 * Brings the repository's bare mirror up to date (clone once, then incremental fetches only
 * when the revision is not there yet) and checks the revision out into `workspaceDir` as a
 * clone that shares the mirror's objects.
 */
export async function fetchRepository(options: FetchRepositoryOptions): Promise<FetchedRepository> {
  const mirrorDir = mirrorDirectory(options.cacheDir, options.repository);
  const env = gitTokenEnv(options.token);
  await mkdir(options.cacheDir, { recursive: true });
  const mirror = await withMirrorLock(mirrorDir, () =>
    withMirrorFileLock(mirrorDir, async () => {
      if (!(await exists(mirrorDir))) {
        // Clone beside the final name and rename, so a crash never leaves a half mirror in place.
        const partial = `${mirrorDir}.partial-${process.pid}-${Date.now()}`;
        try {
          await git(['clone', '--quiet', '--mirror', '--', options.url, partial], {
            cwd: options.cacheDir,
            env,
          });
          // Another process may have won the race; its mirror is as good as ours.
          await rename(partial, mirrorDir).catch(async (err: unknown) => {
            if (!(await exists(mirrorDir))) throw err;
          });
        } finally {
          await rm(partial, { recursive: true, force: true });
        }
        return 'cloned' as const;
      }
      if (await hasCommit(mirrorDir, options.revision)) return 'cached' as const;
      await git(['fetch', '--quiet', '--prune', '--', options.url, '+refs/*:refs/*'], {
        cwd: mirrorDir,
        env,
      });
      return 'fetched' as const;
    }),
  );
  const baseRevision = (
    await git(['rev-parse', '--verify', `${options.revision}^{commit}`], { cwd: mirrorDir })
  ).trim();
  await git(
    ['clone', '--quiet', '--shared', '--no-checkout', '--', mirrorDir, options.workspaceDir],
    {
      cwd: options.cacheDir,
    },
  );
  await git(['checkout', '--quiet', '--detach', baseRevision], { cwd: options.workspaceDir });
  return { workspaceDir: options.workspaceDir, baseRevision, mirror, mirrorDir };
}
