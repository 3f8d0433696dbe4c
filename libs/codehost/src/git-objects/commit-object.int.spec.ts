import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cleanCommitMessage, commitObject, gitObjectId } from './commit-object.js';

const exec = promisify(execFile);
const CLEAN_ENV = {
  PATH: process.env.PATH,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** `git commit -F -` with the author as committer at `date`, as the reconciler's fallback runs it. */
function gitCommit(
  dir: string,
  message: string,
  author: { name: string; email: string },
  date: Date,
): Promise<{ code: number | null; sha: string }> {
  const when = `${Math.floor(date.getTime() / 1000)} +0000`;
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['commit', '-q', '--no-verify', '--allow-empty', '-F', '-'], {
      cwd: dir,
      env: {
        ...CLEAN_ENV,
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_AUTHOR_DATE: when,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
        GIT_COMMITTER_DATE: when,
      },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return resolve({ code, sha: '' });
      exec('git', ['rev-parse', 'HEAD'], { cwd: dir, env: CLEAN_ENV }).then(
        ({ stdout }) => resolve({ code, sha: stdout.trim() }),
        reject,
      );
    });
    child.stdin.end(message);
  });
}

describe('commitObject against git commit', () => {
  let dir: string;
  let parent: string;
  let tree: string;
  const date = new Date('2026-01-02T03:04:05.678Z');
  const ada = { name: 'Ada Lovelace', email: 'ada@example.com' };
  const git = async (...args: string[]) =>
    (await exec('git', args, { cwd: dir, env: CLEAN_ENV })).stdout.trim();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'commit-object-'));
    await git('init', '-q');
    await git(
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.com',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'base',
    );
    parent = await git('rev-parse', 'HEAD');
    tree = await git('rev-parse', 'HEAD^{tree}');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The sha git gives the commit of `message` on `parent`, or null when git refuses it. */
  async function gitSha(message: string, author = ada): Promise<string | null> {
    await git('reset', '-q', '--soft', parent);
    const { code, sha } = await gitCommit(dir, message, author, date);
    return code === 0 ? sha : null;
  }

  it.each([
    ['a one-line message', 'Append Hello to .md files'],
    ['a subject and a body', 'Say hello\n\nWith a body.\n'],
    ['trailing spaces and tabs', 'Subject   \nline two\t \n\t\nlast  '],
    ['blank lines around and between', '\n\n\nSubject\n\n\n\nBody\n\n\n'],
    ['CRLF line ends', 'Subject\r\n\r\n\r\nBody line\r\nmore\r\n'],
    ['no trailing newline', 'Subject without newline'],
    [
      'unicode, and a no-break space git keeps',
      'Grüße, 世界 ✓ 🚀\n\nEnds in a no-break space\u00a0',
    ],
    ['lines that look like comments', '# kept\n\n#also kept\nbody'],
    ['vertical tab and form feed, which git keeps', 'Subject \u000b\nform\u000c\n'],
    ['leading indentation', '   indented subject\n  indented body'],
  ])('gives the sha git gives for %s', async (_name, message) => {
    const built = commitObject({ tree, parent, author: ada, date, message });
    expect(built?.sha).toBe(await gitSha(message));
  });

  it('gives the sha git gives for a unicode author', async () => {
    const author = { name: 'Zoë Ünïcødé', email: 'zoë@exämple.com' };
    const built = commitObject({ tree, parent, author, date, message: 'x' });
    expect(built?.sha).toBe(await gitSha('x', author));
  });

  it('declines identities git would rewrite and messages git refuses', async () => {
    for (const name of ['Ada Jr.', ' Ada', 'Ada <x>', 'Ada,', '"Ada"', '']) {
      expect(
        commitObject({ tree, parent, author: { ...ada, name }, date, message: 'x' }),
      ).toBeNull();
    }
    expect(
      commitObject({ tree, parent, author: { ...ada, email: '<a@b>' }, date, message: 'x' }),
    ).toBeNull();
    for (const message of [' \n\t\r\n', 'nul\0byte']) {
      expect(commitObject({ tree, parent, author: ada, date, message })).toBeNull();
      expect(await gitSha(message)).toBeNull();
    }
  });

  it('is the object git stores: its content hashes to its sha', async () => {
    const built = commitObject({ tree, parent, author: ada, date, message: 'Say hello\n' })!;
    expect(gitObjectId('commit', built.content)).toBe(built.sha);
    await git('reset', '-q', '--soft', parent);
    await gitCommit(dir, 'Say hello\n', ada, date);
    expect(Buffer.from(await git('cat-file', 'commit', built.sha)).toString() + '\n').toBe(
      built.content.toString(),
    );
  });
});

describe('cleanCommitMessage', () => {
  const clean = (text: string) => cleanCommitMessage(Buffer.from(text))?.toString() ?? null;

  it('strips trailing whitespace, collapses blank lines and ends every line with a newline', () => {
    expect(clean('a  \r\n\n\n b\t\n\n')).toBe('a\n\n b\n');
    expect(clean('\n\nonly')).toBe('only\n');
    expect(clean('   ')).toBeNull();
  });
});
