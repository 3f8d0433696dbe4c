import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeHostError, commitObject } from '@campaigns/codehost';
import { startSimCodeHost, type SimCodeHost } from '@campaigns/codehost/testing';
import { git, makeDiff } from '../test-support/reconciler-harness.js';
import { buildCommit, type BuildCommitInput } from './commit-builder.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('buildCommit against the GitHub simulator', () => {
  let sim: SimCodeHost;
  let input: BuildCommitInput;

  beforeAll(async () => {
    sim = await startSimCodeHost({ repos: 1 });
    await sim.sim.control.call('createRepo', {
      owner: 'acme',
      name: 'lib',
      files: { 'README.md': '# lib\n', 'logo.bin': '\u0000\u0001' },
    });
    const repo = sim.repo('lib');
    input = {
      repo,
      remoteUrl: `${sim.sim.url}/acme/lib.git`,
      token: sim.config.token,
      baseRef: 'main',
      baseRevision: (await sim.host.getRepository(repo)).headCommit!,
      diff: await makeDiff(
        { 'README.md': '# lib\n', 'logo.bin': '\u0000\u0001' },
        { 'README.md': '# lib\nHello\n', 'logo.bin': '\u0000\u0002\u0003' },
      ),
      message: 'Say hello\n\nWith a body.',
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      date: new Date('2026-01-02T03:04:05Z'),
    };
  }, 60_000);

  afterAll(async () => {
    await sim?.sim.stop();
  });

  it('makes the same commit every time, on the base revision, with the author, message and date given', async () => {
    const first = await buildCommit(input);
    const second = await buildCommit(input);
    try {
      expect(second.commitSha).toBe(first.commitSha);
      const show = await git(
        first.localRepoPath,
        'show',
        '-s',
        '--format=%P|%an <%ae>|%cn <%ce>|%at|%ct|%B',
        first.commitSha,
      );
      const seconds = String(Date.parse('2026-01-02T03:04:05Z') / 1000);
      expect(show.trim()).toBe(
        `${input.baseRevision}|Ada Lovelace <ada@example.com>|Ada Lovelace <ada@example.com>|${seconds}|${seconds}|Say hello\n\nWith a body.`,
      );
      expect(await git(first.localRepoPath, 'show', `${first.commitSha}:README.md`)).toBe(
        '# lib\nHello\n',
      );
      // The token was used for the fetch but is written nowhere in the repository.
      const basic = Buffer.from(`x-access-token:${sim.token}`).toString('base64');
      for (const file of await filesUnder(first.localRepoPath)) {
        const content = await readFile(file, 'latin1');
        expect(content.includes(sim.token) || content.includes(basic)).toBe(false);
      }
    } finally {
      await first.dispose();
      await second.dispose();
    }
  }, 60_000);

  it.each([
    ['trailing spaces', 'Say hello   \n\nWith a body.\t \n'],
    ['blank lines around and between', '\n\nSay hello\n\n\n\nWith a body.\n\n\n'],
    ['CRLF line ends', 'Say hello\r\n\r\nWith a body.\r\n'],
    ['no trailing newline', 'Say hello'],
    ['unicode', 'Grüße, 世界 ✓ 🚀\n\nÜber alles\u00a0'],
  ])(
    'makes the commit commitObject computes without git, for a message with %s',
    async (_name, message) => {
      const built = await buildCommit({ ...input, message });
      try {
        const tree = (await git(built.localRepoPath, 'rev-parse', 'HEAD^{tree}')).trim();
        const computed = commitObject({
          tree,
          parent: input.baseRevision,
          author: input.author,
          date: input.date,
          message,
        });
        expect(computed?.sha).toBe(built.commitSha);
      } finally {
        await built.dispose();
      }
    },
    60_000,
  );

  it('fails terminally when the diff does not apply, and leaves no directory behind', async () => {
    const diff = await makeDiff({ 'README.md': 'something else\n' }, { 'README.md': 'changed\n' });
    // A temporary directory of this test's own: other test files build commits meanwhile.
    const scratch = await mkdtemp(join(tmpdir(), 'commit-builder-test-'));
    const previousTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
    let error: unknown;
    try {
      error = await buildCommit({ ...input, diff }).catch((e: unknown) => e);
    } finally {
      if (previousTmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previousTmpdir;
    }
    try {
      expect(error).toBeInstanceOf(CodeHostError);
      expect(error).toMatchObject({ kind: 'terminal' });
      expect((error as Error).message).toMatch(/does not apply/);
      expect(await readdir(scratch)).toEqual([]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});
