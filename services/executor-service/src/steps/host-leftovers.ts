import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';

/**
 * What executor processes leave on this host — labelled warm containers, directories in memory
 * and on disk named with their pid — and its removal once the process that made it is dead.
 */

/** Labels of every warm step container: whose it is, to find the leftovers of a dead executor. */
export const WARM_HOST_LABEL = 'campaigns.warm-host';
export const WARM_PID_LABEL = 'campaigns.warm-pid';
/** The step's index in the spec. */
export const STEP_LABEL = 'campaigns.step';
/** The application (`use`) the container works for: one campaign's SpecApplied. */
export const APPLICATION_LABEL = 'campaigns.apply';

/** The engine refused because the container is gone or stopped: a new one will do. */
export function containerGone(err: unknown): boolean {
  const e = err as { statusCode?: number; message?: string };
  return e.statusCode === 404 || e.statusCode === 409 || /not running/i.test(e.message ?? '');
}

/** Where warm containers' files and secrets are kept: in memory when the host has /dev/shm. */
export function memoryDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/** The start of this host's warm-container directories in `memoryDir()`, followed by `<pid>-`. */
export const WARM_DIR_PREFIX = `campaigns-warm-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-`;

/** Whether a process of this host runs with that pid (one of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the entries of `parent` named `${prefix}<pid>-…` whose process is dead. */
export async function removeDeadProcessesDirs(
  parent: string,
  prefix: string,
  removal: Parameters<typeof rm>[1] = { recursive: true, force: true },
): Promise<void> {
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1] ?? NaN);
    if (name.startsWith(prefix) && Number.isInteger(pid) && !processAlive(pid)) {
      await rm(join(parent, name), removal);
    }
  }
}

/**
 * Removes the warm containers and memory files that executors on this host left when they
 * died (their process is gone). Their containers would stop by themselves within a minute.
 */
export async function removeDeadExecutorsContainers(docker: Docker): Promise<void> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${WARM_HOST_LABEL}=${hostname()}`] },
  });
  await Promise.all(
    containers
      .filter((c) => {
        const pid = Number(c.Labels[WARM_PID_LABEL]);
        return !processAlive(pid);
      })
      .map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch((err: unknown) => {
            if (!containerGone(err)) throw err;
          }),
      ),
  );
  await removeDeadProcessesDirs(memoryDir(), WARM_DIR_PREFIX);
}
