import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchRepository, type FetchedRepository } from '../steps/index.js';
import { createRemoteRepository, type RemoteRepository } from './git-fixtures.js';

/** A scratch directory per test file, with a mirror cache and room for workspaces. */
export interface Scratch {
  readonly dir: string;
  readonly cacheDir: string;
  /** A fresh remote with `files` and a workspace checked out at its head. */
  checkout(
    files: Record<string, string>,
  ): Promise<FetchedRepository & { remote: RemoteRepository }>;
  remove(): Promise<void>;
}

export async function createScratch(): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), 'campaigns-steps-'));
  const cacheDir = join(dir, 'mirrors');
  let count = 0;
  return {
    dir,
    cacheDir,
    async checkout(files) {
      const n = ++count;
      const remote = await createRemoteRepository(files, await mkdtemp(join(dir, 'remote-')));
      const fetched = await fetchRepository({
        url: remote.url,
        repository: `example.com/acme/repo-${n}`,
        revision: remote.head,
        cacheDir,
        workspaceDir: join(dir, `workspace-${n}`),
      });
      return { ...fetched, remote };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
