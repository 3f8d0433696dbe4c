import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withStoreFileLock, withStoreLock } from './store-lock.js';

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('store locks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-lock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('given two tasks on one store in this process, then the second starts only after the first ended', async () => {
    const storeDir = join(dir, 'serial.git');
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    // Given a first task that holds the store until told to end, and a second one queued behind it.
    const first = withStoreLock(storeDir, async () => {
      order.push('first started');
      await firstMayEnd;
      order.push('first ended');
    });
    const second = withStoreLock(storeDir, async () => {
      order.push('second started');
    });
    // When the first ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    releaseFirst();
    await Promise.all([first, second]);
    // Then the second ran after it.
    expect(order).toEqual(['first started', 'first ended', 'second started']);
  });

  it('given a lock whose owner is a process of this host that has died, then it is taken over at once and removed after', async () => {
    // Given a fresh lock directory left by a dead executor of this host.
    const storeDir = join(dir, 'orphan.git');
    const lockDir = `${storeDir}.lock`;
    await mkdir(lockDir);
    await writeFile(join(lockDir, 'owner'), `${hostname()} ${await deadPid()}`);
    // When a task wants the store.
    const started = Date.now();
    const result = await withStoreFileLock(storeDir, async () => 'ran');
    // Then it runs without waiting for the lock to go stale, and leaves no lock behind.
    expect(result).toBe('ran');
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(stat(lockDir)).rejects.toThrow();
  });
});
