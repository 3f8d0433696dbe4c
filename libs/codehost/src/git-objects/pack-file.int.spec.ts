import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { commitObject } from './commit-object.js';
import { appendObjectToPack, PackFileError, packObjectCount } from './pack-file.js';

const exec = promisify(execFile);
const ENV = { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

function gitWithInput(cwd: string, args: string[], input: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: ENV });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`git ${args[0]}: ${Buffer.concat(err).toString()}`)),
    );
    child.stdin.end(input);
  });
}

describe('appendObjectToPack', () => {
  let dir: string;
  let tree: string;
  let parent: string;
  let objects: string;
  const git = async (...args: string[]) =>
    (await exec('git', args, { cwd: dir, env: ENV })).stdout.trim();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pack-file-'));
    await git('init', '-q');
    // Similar files, so pack-objects stores some of them as deltas of others.
    const text = Array.from(
      { length: 200 },
      (_, i) => `line ${i} of a file long enough to delta\n`,
    );
    for (let i = 0; i < 6; i++) {
      await writeFile(join(dir, `file-${i}.txt`), [...text.slice(i), `variant ${i}\n`].join(''));
    }
    await git('add', '-A');
    await git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'base');
    parent = await git('rev-parse', 'HEAD');
    tree = await git('rev-parse', 'HEAD^{tree}');
    objects = await git('rev-list', '--objects', tree);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['ofs-deltas', ['--delta-base-offset']],
    ['ref-deltas', []],
  ])('keeps a pack with %s valid and adds the commit git can read back', async (_kind, flags) => {
    const pack = await gitWithInput(dir, ['pack-objects', '--stdout', '-q', ...flags], objects);
    const before = packObjectCount(pack);
    const commit = commitObject({
      tree,
      parent,
      author: { name: 'Ada', email: 'ada@example.com' },
      date: new Date('2026-01-02T03:04:05Z'),
      message: 'On top\n',
    })!;

    const extended = appendObjectToPack(pack, 'commit', commit.content);

    expect(packObjectCount(extended)).toBe(before + 1);
    const target = await mkdtemp(join(tmpdir(), 'pack-file-target-'));
    try {
      await exec('git', ['init', '-q', '--bare', target], { env: ENV });
      // index-pack resolves every delta and checks the trailing checksum.
      await gitWithInput(target, ['index-pack', '--stdin'], extended);
      const read = await exec('git', ['cat-file', 'commit', commit.sha], { cwd: target, env: ENV });
      expect(read.stdout).toBe(commit.content.toString());
      const { stdout: index } = await exec('sh', ['-c', 'git verify-pack -v objects/pack/*.idx'], {
        cwd: target,
        env: ENV,
      });
      const entries = index.split('\n').filter((l) => /^[0-9a-f]{40} /.test(l));
      expect(entries).toHaveLength(before + 1);
      // Some objects are deltas (five fields and more), so offsets into the pack were kept.
      expect(entries.some((l) => l.trim().split(/\s+/).length > 5)).toBe(true);
      expect(entries.find((l) => l.startsWith(commit.sha))).toMatch(/ commit /);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  it('refuses what is not a pack, or a pack whose checksum is wrong', async () => {
    const pack = await gitWithInput(dir, ['pack-objects', '--stdout', '-q'], objects);
    expect(() =>
      appendObjectToPack(
        Buffer.from('not a pack at all, longer than 32 bytes'),
        'commit',
        Buffer.from('x'),
      ),
    ).toThrow(PackFileError);
    const corrupt = Buffer.from(pack);
    corrupt[20] = corrupt[20]! ^ 0xff;
    expect(() => appendObjectToPack(corrupt, 'commit', Buffer.from('x'))).toThrow(/checksum/);
  });
});
