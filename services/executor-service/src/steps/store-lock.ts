import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '@campaigns/events';

/**
 * One writer per repository store at a time: within this process (a promise chain per store) and
 * across the executor processes that share a cache directory (a lock directory beside the store).
 */

const storeLocks = new Map<string, Promise<unknown>>();

/** Runs `task` after any earlier task on the same store in this process has finished. */
export function withStoreLock<T>(storeDir: string, task: () => Promise<T>): Promise<T> {
  const previous = storeLocks.get(storeDir) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => undefined);
  storeLocks.set(storeDir, settled);
  void settled.then(() => {
    if (storeLocks.get(storeDir) === settled) storeLocks.delete(storeDir);
  });
  return next;
}

/** A store lock whose holder has not touched it for this long is taken to be left by a dead process. */
export const STORE_LOCK_STALE_MS = 2 * 60_000;
const LOCK_HEARTBEAT_MS = 20_000;
const LOCK_POLL_MS = 100;

/**
 * Runs `task` holding `${storeDir}.lock` (a directory: mkdir is atomic), so executor processes
 * sharing a cache never write one store at once. The holder refreshes the lock's time while it
 * works; a lock not refreshed for STORE_LOCK_STALE_MS (a killed process) is taken over.
 */
export async function withStoreFileLock<T>(storeDir: string, task: () => Promise<T>): Promise<T> {
  const lockDir = `${storeDir}.lock`;
  const owner = `${hostname()} ${process.pid}`;
  await pollUntil(
    async () => {
      try {
        await mkdir(lockDir);
        await writeFile(join(lockDir, 'owner'), owner).catch(() => undefined);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lockDir).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        // A stale or orphaned lock is removed and taken at the next attempt.
        if (age > STORE_LOCK_STALE_MS || (await holderIsGone(lockDir)))
          await rm(lockDir, { recursive: true, force: true });
        return undefined;
      }
    },
    { intervalMs: LOCK_POLL_MS },
  );
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

/**
 * Whether the lock's holder was a process of this host that no longer runs (an executor killed
 * while fetching): its lock is taken over at once instead of after STORE_LOCK_STALE_MS, which
 * held a restarted executor's every slot for two minutes. Another host's holder, or one that
 * wrote no owner yet, is waited for.
 */
async function holderIsGone(lockDir: string): Promise<boolean> {
  const text = await readFile(join(lockDir, 'owner'), 'utf8').catch(() => null);
  if (text === null) return false;
  const [host, pid] = text.trim().split(' ');
  if (host !== hostname() || !/^[0-9]+$/.test(pid ?? '') || Number(pid) === process.pid)
    return false;
  // Only a pid known to be gone (ESRCH) counts: a lock is never taken from a doubtful holder.
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
