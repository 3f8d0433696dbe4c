import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { startSimCodeHost, type SimCodeHost } from '../test-support/sim-code-host.js';
import { fetchShallowCommit, UploadPackRefusedError } from './upload-pack.js';

const run = promisify(execFile);

describe('fetchShallowCommit against the simulator (git http-backend)', () => {
  let t: SimCodeHost;
  let dir: string;
  beforeAll(async () => {
    t = await startSimCodeHost();
    dir = await mkdtemp(join(tmpdir(), 'campaigns-upload-pack-'));
  }, 60_000);
  afterAll(async () => {
    await t?.sim.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const gitRequests = async (since: number) =>
    (await t.sim.control.call('requests', { since, kind: 'git' })).map(
      (r) => `${r.method} ${r.path} ${r.status}`,
    );
  const lastSeq = async () =>
    (await t.sim.control.call('requests', {})).reduce((max, r) => Math.max(max, r.seq), 0);

  it('fetches one commit that is no longer a branch tip, depth 1, in one request, and git can index and read it', async () => {
    const repo = await t.sim.control.call('createRepo', {
      owner: 'acme',
      name: 'shallow',
      visibility: 'private',
      files: { 'README.md': '# one\n', 'src/a.txt': 'a\n' },
    });
    const first = repo.branches[repo.default_branch]!;
    await t.sim.control.call('pushCommit', {
      owner: 'acme',
      name: 'shallow',
      branch: 'main',
      files: { 'README.md': '# two\n' },
    });
    const since = await lastSeq();

    const { shallow, pack } = await fetchShallowCommit({
      url: `${t.sim.url}/acme/shallow.git`,
      commit: first,
      token: t.token,
    });

    const store = join(dir, 'store.git');
    await run('git', ['init', '--quiet', '--bare', store]);
    const indexPack = spawn('git', ['index-pack', '--stdin'], {
      cwd: store,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    const exited = new Promise((resolve) => indexPack.on('close', resolve));
    await pipeline(Readable.from(pack), indexPack.stdin);
    expect(await exited).toBe(0);
    expect(await gitRequests(since)).toEqual(['POST /acme/shallow.git/git-upload-pack 200']);
    // The commit at depth 1 is listed as shallow (git lists it even when it has no parents).
    expect(shallow).toEqual([first]);
    const { stdout } = await run('git', ['show', `${first}:README.md`], { cwd: store });
    expect(stdout).toBe('# one\n');
    const { stdout: tree } = await run('git', ['ls-tree', '-r', '--name-only', first], {
      cwd: store,
    });
    expect(tree.split('\n').filter(Boolean)).toEqual(['README.md', 'src/a.txt']);
  });

  it('lists a commit with a parent as shallow: its parent is left out', async () => {
    const repo = await t.sim.control.call('getRepo', { owner: 'acme', name: 'shallow' });
    const head = repo.branches[repo.default_branch]!;
    const { shallow, pack } = await fetchShallowCommit({
      url: `${t.sim.url}/acme/shallow.git`,
      commit: head,
      token: t.token,
    });
    for await (const chunk of pack) expect(chunk.length).toBeGreaterThan(0);
    expect(shallow).toEqual([head]);
  });

  it('sends the token only in the Authorization header', async () => {
    const since = await lastSeq();
    const repo = await t.sim.control.call('getRepo', { owner: 'acme', name: 'shallow' });
    const { pack } = await fetchShallowCommit({
      url: `${t.sim.url}/acme/shallow.git`,
      commit: repo.branches[repo.default_branch]!,
      token: t.token,
    });
    for await (const chunk of pack) void chunk;
    const [request] = await t.sim.control.call('requests', { since, kind: 'git' });
    expect(request).toMatchObject({ token: t.token, login: 'campaigns-bot' });
    expect(request!.path).not.toContain(t.token);
  });

  it('refuses, without the token in the message, a commit the server does not have, a missing repository and a bad token', async () => {
    const unknown = await fetchShallowCommit({
      url: `${t.sim.url}/acme/shallow.git`,
      commit: 'f'.repeat(40),
      token: t.token,
    }).catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(UploadPackRefusedError);
    expect((unknown as Error).message).toMatch(/^upload-pack refused: /);

    const missing = await fetchShallowCommit({
      url: `${t.sim.url}/acme/no-such-repo.git`,
      commit: 'f'.repeat(40),
      token: t.token,
    }).catch((err: unknown) => err);
    expect(missing).toMatchObject({ name: 'UploadPackRefusedError', status: 404 });

    const canary = 'ghp_canary_bad_token_1f2e';
    const badToken = await fetchShallowCommit({
      url: `${t.sim.url}/acme/shallow.git`,
      commit: 'f'.repeat(40),
      token: canary,
    }).catch((err: unknown) => err);
    expect(badToken).toMatchObject({ name: 'UploadPackRefusedError', status: 401 });
    expect(JSON.stringify(badToken) + String(badToken)).not.toContain(canary);
  });

  it('writes exactly the protocol request it documents', async () => {
    const { shallowCommitRequestBody } = await import('./upload-pack.js');
    expect(shallowCommitRequestBody('a'.repeat(40)).toString('latin1')).toBe(
      `0060want ${'a'.repeat(40)} shallow no-progress ofs-delta agent=campaigns\n` +
        '000ddeepen 1\n0000' +
        '0009done\n',
    );
  });
});
