import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const AUTHOR_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    env: { ...process.env, ...AUTHOR_ENV },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** A bare repository standing in for a code host's remote, with one commit of `files`. */
export interface RemoteRepository {
  /** The bare repository's path, usable as a clone URL. */
  readonly url: string;
  /** The commit `main` points at. */
  readonly head: string;
  /** Commits `files` (path → content; `null` deletes) on top of main and pushes it; returns the new commit. */
  commit(files: Record<string, string | null>, message?: string): Promise<string>;
}

export async function createRemoteRepository(
  files: Record<string, string>,
  parent?: string,
): Promise<RemoteRepository> {
  const base = parent ?? (await mkdtemp(join(tmpdir(), 'campaigns-remote-')));
  const url = join(base, 'remote.git');
  const work = join(base, 'author');
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', url]);
  await run('git', ['init', '--quiet', '--initial-branch=main', work]);
  const commit = async (changes: Record<string, string | null>, message = 'change') => {
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) {
        await git(work, 'rm', '--quiet', path);
      } else {
        await mkdir(dirname(join(work, path)), { recursive: true });
        await writeFile(join(work, path), content);
      }
    }
    await git(work, 'add', '-A');
    await git(work, 'commit', '--quiet', '-m', message);
    await git(work, 'push', '--quiet', url, 'HEAD:refs/heads/main');
    return (await git(work, 'rev-parse', 'HEAD')).trim();
  };
  const head = await commit(files, 'initial');
  return { url, head, commit };
}
