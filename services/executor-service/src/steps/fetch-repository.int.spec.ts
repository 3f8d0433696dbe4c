import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { createScratch, type Scratch } from '../test-support/workspace.js';
import { git } from '../test-support/git-fixtures.js';
import {
  fetchRepository,
  GitError,
  gitTokenEnv,
  MIRROR_LOCK_STALE_MS,
  mirrorDirectory,
} from './index.js';

describe('fetchRepository', () => {
  let scratch: Scratch;
  beforeAll(async () => {
    scratch = await createScratch();
  });
  afterAll(async () => {
    await scratch.remove();
  });

  it('clones a bare mirror once and checks the base commit out into the workspace', async () => {
    const fetched = await scratch.checkout({ 'README.md': '# repo\n', 'src/a.txt': 'a\n' });

    expect(fetched.mirror).toBe('cloned');
    expect(fetched.baseRevision).toBe(fetched.remote.head);
    expect(await readFile(join(fetched.workspaceDir, 'src/a.txt'), 'utf8')).toBe('a\n');
    expect((await git(fetched.mirrorDir, 'rev-parse', '--is-bare-repository')).trim()).toBe('true');
    expect((await git(fetched.workspaceDir, 'rev-parse', 'HEAD')).trim()).toBe(fetched.remote.head);
  });

  it('reuses the mirror: a known commit needs no fetch, a new one is fetched incrementally', async () => {
    const first = await scratch.checkout({ 'README.md': 'one\n' });
    const options = { url: first.remote.url, cacheDir: scratch.cacheDir };
    const repository = 'example.com/acme/incremental';
    const cloned = await fetchRepository({
      ...options,
      repository,
      revision: first.remote.head,
      workspaceDir: join(scratch.dir, 'incremental-1'),
    });
    const again = await fetchRepository({
      ...options,
      repository,
      revision: first.remote.head,
      workspaceDir: join(scratch.dir, 'incremental-2'),
    });

    const second = await first.remote.commit({ 'README.md': 'two\n' }, 'second');
    const fetched = await fetchRepository({
      ...options,
      repository,
      revision: second,
      workspaceDir: join(scratch.dir, 'incremental-3'),
    });

    expect([cloned.mirror, again.mirror, fetched.mirror]).toEqual(['cloned', 'cached', 'fetched']);
    expect(fetched.mirrorDir).toBe(cloned.mirrorDir);
    expect(await readFile(join(fetched.workspaceDir, 'README.md'), 'utf8')).toBe('two\n');
    expect(await readFile(join(again.workspaceDir, 'README.md'), 'utf8')).toBe('one\n');
  });

  it('clones once when two executions of the same repository fetch at the same time', async () => {
    const { remote } = await scratch.checkout({ 'README.md': 'shared\n' });
    const fetchInto = (name: string) =>
      fetchRepository({
        url: remote.url,
        repository: 'example.com/acme/concurrent',
        revision: remote.head,
        cacheDir: scratch.cacheDir,
        workspaceDir: join(scratch.dir, name),
      });

    const results = await Promise.all([fetchInto('concurrent-1'), fetchInto('concurrent-2')]);

    expect(results.map((r) => r.mirror).sort()).toEqual(['cached', 'cloned']);
    for (const r of results)
      expect(await readFile(join(r.workspaceDir, 'README.md'), 'utf8')).toBe('shared\n');
  });

  it('waits while another process holds the mirror lock, and takes over a lock left by a dead one', async () => {
    const { remote } = await scratch.checkout({ 'README.md': 'locked\n' });
    const repository = 'example.com/acme/locked';
    const lockDir = `${mirrorDirectory(scratch.cacheDir, repository)}.lock`;
    const fetchInto = (name: string) =>
      fetchRepository({
        url: remote.url,
        repository,
        revision: 'main',
        cacheDir: scratch.cacheDir,
        workspaceDir: join(scratch.dir, name),
      });

    // Another executor holds the lock: we wait until it lets go.
    await mkdir(lockDir);
    let finished = false;
    const waiting = fetchInto('locked-1').then((fetched) => {
      finished = true;
      return fetched;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(finished).toBe(false);
    await rm(lockDir, { recursive: true });
    expect((await waiting).mirror).toBe('cloned');

    // A killed executor left its lock behind long ago: it is taken over at once.
    await mkdir(lockDir);
    const longAgo = new Date(Date.now() - MIRROR_LOCK_STALE_MS - 60_000);
    await utimes(lockDir, longAgo, longAgo);
    const started = Date.now();
    expect((await fetchInto('locked-2')).mirror).toBe('fetched');
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(stat(lockDir)).rejects.toThrow();
  });

  it('passes the token as an HTTP header through the environment, never in the mirror config', async () => {
    const canary = 'canary-token-5d1f';
    const env = gitTokenEnv(canary);
    const fetched = await fetchRepository({
      url: (await scratch.checkout({ 'a.md': 'a\n' })).remote.url,
      repository: 'example.com/acme/with-token',
      revision: 'main',
      cacheDir: scratch.cacheDir,
      workspaceDir: join(scratch.dir, 'with-token'),
      token: canary,
    });

    expect(env.GIT_CONFIG_KEY_0).toBe('http.extraHeader');
    expect(Buffer.from(env.GIT_CONFIG_VALUE_0!.split(' ').at(-1)!, 'base64').toString()).toBe(
      `x-access-token:${canary}`,
    );
    const configs = [
      await readFile(join(fetched.mirrorDir, 'config'), 'utf8'),
      await readFile(join(fetched.workspaceDir, '.git/config'), 'utf8'),
    ];
    for (const config of configs) expect(config).not.toContain(canary);
  });

  it('sends the token to an HTTP remote as a header and keeps it out of the error', async () => {
    const canary = 'canary-token-http-9b2e';
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers.authorization ?? '');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await fetchRepository({
        url: `http://127.0.0.1:${port}/acme/api.git`,
        repository: 'example.com/acme/http',
        revision: 'main',
        cacheDir: scratch.cacheDir,
        workspaceDir: join(scratch.dir, 'http'),
        token: canary,
      }).catch((err: unknown) => err);

      expect(error).toBeInstanceOf(GitError);
      expect(String((error as Error).message)).not.toContain(canary);
      expect(seen[0]).toBe(`Basic ${Buffer.from(`x-access-token:${canary}`).toString('base64')}`);
    } finally {
      server.close();
    }
  });
});
