import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pktLine } from '@campaigns/codehost';
import { startSimCodeHost, type SimCodeHost } from '@campaigns/codehost/testing';
import { createScratch, type Scratch } from '../test-support/workspace.js';
import { git } from '../test-support/git-fixtures.js';
import {
  checkoutWorkspace,
  ensureCommit,
  fetchRepository,
  GitError,
  gitTokenEnv,
  STORE_LOCK_STALE_MS,
  storeDirectory,
} from './index.js';

describe('fetchRepository', () => {
  let scratch: Scratch;
  beforeAll(async () => {
    scratch = await createScratch();
  });
  afterAll(async () => {
    await scratch.remove();
  });

  it('fetches into a bare store once and checks the base commit out into the workspace', async () => {
    const fetched = await scratch.checkout({ 'README.md': '# repo\n', 'src/a.txt': 'a\n' });

    expect(fetched.source).toBe('git-fetch');
    expect(fetched.baseRevision).toBe(fetched.remote.head);
    expect(await readFile(join(fetched.workspaceDir, 'src/a.txt'), 'utf8')).toBe('a\n');
    expect((await git(fetched.storeDir, 'rev-parse', '--is-bare-repository')).trim()).toBe('true');
    expect((await git(fetched.workspaceDir, 'rev-parse', 'HEAD')).trim()).toBe(fetched.remote.head);
  });

  it('reuses the store: a known commit needs no fetch, a new one is fetched incrementally', async () => {
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

    expect([cloned.source, again.source, fetched.source]).toEqual([
      'git-fetch',
      'cached',
      'git-fetch',
    ]);
    expect(fetched.storeDir).toBe(cloned.storeDir);
    expect(await readFile(join(fetched.workspaceDir, 'README.md'), 'utf8')).toBe('two\n');
    expect(await readFile(join(again.workspaceDir, 'README.md'), 'utf8')).toBe('one\n');
  });

  it('fetches once when two executions of the same repository fetch at the same time', async () => {
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

    expect(results.map((r) => r.source).sort()).toEqual(['cached', 'git-fetch']);
    for (const r of results)
      expect(await readFile(join(r.workspaceDir, 'README.md'), 'utf8')).toBe('shared\n');
  });

  it('waits while another process holds the store lock, and takes over a lock left by a dead one', async () => {
    const { remote } = await scratch.checkout({ 'README.md': 'locked\n' });
    const repository = 'example.com/acme/locked';
    const lockDir = `${storeDirectory(scratch.cacheDir, repository)}.lock`;
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
    expect((await waiting).source).toBe('git-fetch');

    // A killed executor left its lock behind long ago: it is taken over at once.
    await mkdir(lockDir);
    const longAgo = new Date(Date.now() - STORE_LOCK_STALE_MS - 60_000);
    await utimes(lockDir, longAgo, longAgo);
    const started = Date.now();
    expect((await fetchInto('locked-2')).source).toBe('git-fetch');
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(stat(lockDir)).rejects.toThrow();
  });

  it('passes the token as an HTTP header through the environment, never in the store config', async () => {
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
      await readFile(join(fetched.storeDir, 'config'), 'utf8'),
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

describe('ensureCommit against the GitHub simulator', () => {
  let t: SimCodeHost;
  let dir: string;
  let proxy: Server;
  let proxyUrl: string;
  /** How the proxy answers the one-request fetch (git's own fetch always passes through). */
  let refuse: 'err' | 'http-500' | 'slow-end' | 'cut' = 'err';
  beforeAll(async () => {
    t = await startSimCodeHost();
    dir = await mkdtemp(join(tmpdir(), 'campaigns-store-sim-'));
    // A code host that refuses what is asked in one protocol v0 request without the advertisement,
    // as a server that allows no unadvertised commit does; git's fetch (protocol v2) goes through.
    proxy = createServer((request, response) => {
      const v2 = String(request.headers['git-protocol'] ?? '').includes('version=2');
      const oneRequest = request.url?.endsWith('/git-upload-pack') && !v2;
      if (oneRequest && (refuse === 'slow-end' || refuse === 'cut')) {
        // The whole answer at once, then its end late (or never: the connection drops halfway).
        const target = new URL(request.url ?? '/', t.sim.url);
        const upstream = httpRequest(
          target,
          { method: request.method, headers: { ...request.headers, host: target.host } },
          async (answer) => {
            const chunks: Buffer[] = [];
            for await (const chunk of answer) chunks.push(chunk as Buffer);
            const body = Buffer.concat(chunks);
            response.writeHead(answer.statusCode ?? 502, {
              'content-type': 'application/x-git-upload-pack-result',
            });
            if (refuse === 'cut') {
              response.write(body.subarray(0, body.length - 30));
              setTimeout(() => response.destroy(), 200);
            } else {
              response.write(body);
              setTimeout(() => response.end(), 1500);
            }
          },
        );
        request.pipe(upstream);
        return;
      }
      if (oneRequest) {
        request.resume();
        if (refuse === 'http-500') {
          response.writeHead(500).end('upstream trouble');
        } else {
          response.writeHead(200, { 'content-type': 'application/x-git-upload-pack-result' });
          response.end(pktLine('ERR upload-pack: not our ref\n'));
        }
        return;
      }
      const target = new URL(request.url ?? '/', t.sim.url);
      const upstream = httpRequest(
        target,
        { method: request.method, headers: { ...request.headers, host: target.host } },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    proxy?.close();
    await t?.sim.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const lastSeq = async () =>
    (await t.sim.control.call('requests', {})).reduce((max, r) => Math.max(max, r.seq), 0);
  const gitRequests = async (since: number) =>
    (await t.sim.control.call('requests', { since, kind: 'git' })).map(
      (r) => `${r.method} ${r.path.replace(/\?.*/, '')}`,
    );
  /** A repository whose main has moved on: its first commit is no longer a branch tip. */
  const repoWithHistory = async (name: string) => {
    const repo = await t.sim.control.call('createRepo', {
      owner: 'acme',
      name,
      visibility: 'private',
      files: { 'README.md': `# ${name}\n`, 'docs/a.md': 'a\n' },
    });
    const first = repo.branches[repo.default_branch]!;
    const { sha: second } = await t.sim.control.call('pushCommit', {
      owner: 'acme',
      name,
      branch: 'main',
      files: { 'README.md': `# ${name} v2\n` },
    });
    return { first, second, repository: t.repo(name) };
  };

  it('fetches a commit that is no longer a branch tip in one request, then needs none', async () => {
    const { first, second, repository } = await repoWithHistory('one-request');
    const options = {
      url: `${t.sim.url}/acme/one-request.git`,
      repository,
      cacheDir: join(dir, 'cache'),
      token: t.token,
    };
    const since = await lastSeq();

    const stored = await ensureCommit({ ...options, revision: first });
    expect(stored).toMatchObject({ source: 'shallow', baseRevision: first });
    expect(await gitRequests(since)).toEqual(['POST /acme/one-request.git/git-upload-pack']);

    // The pack was read in Node: its objects come back for the checkout, and git can read the
    // pack and the index written for it.
    expect(stored.objects?.get(first)?.type).toBe('commit');
    expect((await git(stored.storeDir, 'cat-file', '-t', first)).trim()).toBe('commit');
    await git(stored.storeDir, 'fsck', '--no-dangling', '--connectivity-only');

    const afterFirst = await lastSeq();
    const cached = await ensureCommit({ ...options, revision: first });
    expect(cached).toMatchObject({ source: 'cached' });
    expect(cached.objects).toBeUndefined();
    expect(await ensureCommit({ ...options, revision: second })).toMatchObject({
      source: 'shallow',
    });
    expect(await gitRequests(afterFirst)).toEqual(['POST /acme/one-request.git/git-upload-pack']);

    // The workspace: the base commit checked out, HEAD detached at it, history readable.
    const workspaceDir = join(dir, 'workspace-one-request');
    // Written by Node from the fetched objects, with the staged state kept for the steps.
    expect(await checkoutWorkspace(stored, workspaceDir)).not.toBeNull();
    expect(await readFile(join(workspaceDir, 'README.md'), 'utf8')).toBe('# one-request\n');
    expect((await git(workspaceDir, 'rev-parse', 'HEAD')).trim()).toBe(first);
    expect((await git(workspaceDir, 'status', '--porcelain')).trim()).toBe('');
    expect((await git(workspaceDir, 'log', '--format=%H')).trim()).toBe(first);
    expect(await readFile(join(stored.storeDir, 'shallow'), 'utf8')).toContain(first);
  });

  it.each(['err', 'http-500'] as const)(
    "falls back to git's fetch when the server refuses the one request (%s)",
    async (how) => {
      refuse = how;
      const name = `refused-${how}`;
      const { first, repository } = await repoWithHistory(name);
      const since = await lastSeq();

      const fetched = await fetchRepository({
        url: `${proxyUrl}/acme/${name}.git`,
        repository,
        revision: first,
        cacheDir: join(dir, 'cache'),
        workspaceDir: join(dir, `workspace-${name}`),
        token: t.token,
      });

      expect(fetched).toMatchObject({ source: 'git-fetch', baseRevision: first });
      expect(await readFile(join(fetched.workspaceDir, 'README.md'), 'utf8')).toBe(`# ${name}\n`);
      // The refused request never reached the simulator; git's own fetch did, from the advertisement on.
      const requests = await gitRequests(since);
      expect(requests[0]).toBe(`GET /acme/${name}.git/info/refs`);
      expect(requests).toContain(`POST /acme/${name}.git/git-upload-pack`);
    },
  );

  it('keeps a pack whose checksum arrived before the answer ended, and refuses one cut short', async () => {
    refuse = 'slow-end';
    const late = await repoWithHistory('late-end');
    // index-pack is done (and gone) long before the HTTP body ends: not an error.
    expect(
      await ensureCommit({
        url: `${proxyUrl}/acme/late-end.git`,
        repository: late.repository,
        revision: late.first,
        cacheDir: join(dir, 'cache'),
        token: t.token,
      }),
    ).toMatchObject({ source: 'shallow', baseRevision: late.first });

    refuse = 'cut';
    const cut = await repoWithHistory('cut-short');
    const error = await ensureCommit({
      url: `${proxyUrl}/acme/cut-short.git`,
      repository: cut.repository,
      revision: cut.first,
      cacheDir: join(dir, 'cache'),
      token: t.token,
    }).catch((err: unknown) => err);
    expect((error as Error).message).toMatch(/^the pack from the code host ended early: /);
    // Nothing of it stays in the store.
    const store = storeDirectory(join(dir, 'cache'), cut.repository);
    expect((await readdir(store)).filter((f) => f.startsWith('incoming-'))).toEqual([]);
    expect(await readdir(join(store, 'objects', 'pack'))).toEqual([]);
  });

  it('reports a commit the code host does not have as a GitError from the fallback fetch', async () => {
    const { repository } = await repoWithHistory('unknown-commit');
    const error = await ensureCommit({
      url: `${t.sim.url}/acme/unknown-commit.git`,
      repository,
      revision: 'f'.repeat(40),
      cacheDir: join(dir, 'cache'),
      token: t.token,
    }).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(GitError);
    expect(String(error)).not.toContain(t.token);
  });
});
