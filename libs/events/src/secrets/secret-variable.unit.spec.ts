import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  MAX_SECRET_FILE_BYTES,
  readSecretVariable,
  withDatabasePassword,
} from './secret-variable.js';

const TOKEN = 'ghp_secret_variable_canary_0123';

describe('readSecretVariable', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secret-variable-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the variable itself', () => {
    expect(readSecretVariable({ GITHUB_TOKEN: TOKEN }, 'GITHUB_TOKEN')).toEqual({ value: TOKEN });
  });

  it('given NAME_FILE (a compose secret), then it reads the file without its trailing line break', async () => {
    const file = join(dir, 'token');
    await writeFile(file, `${TOKEN}\n`);
    expect(readSecretVariable({ GITHUB_TOKEN_FILE: file }, 'GITHUB_TOKEN')).toEqual({
      value: TOKEN,
    });
  });

  it('given both, then it refuses rather than guessing which one wins', async () => {
    const file = join(dir, 'both');
    await writeFile(file, TOKEN);
    const read = readSecretVariable(
      { GITHUB_TOKEN: TOKEN, GITHUB_TOKEN_FILE: file },
      'GITHUB_TOKEN',
    );
    expect(read.problem).toBe(
      'environment variables GITHUB_TOKEN and GITHUB_TOKEN_FILE are both set; set one of them',
    );
    expect(read.value).toBeUndefined();
  });

  it('names the variable and the file in every problem, never the value', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    const big = join(dir, 'big');
    await writeFile(big, 'x'.repeat(MAX_SECRET_FILE_BYTES + 1));
    const short = join(dir, 'short');
    await writeFile(short, 'q7zX');
    const unreadable = join(dir, 'unreadable');
    await writeFile(unreadable, TOKEN);
    await chmod(unreadable, 0o000);
    const problems = {
      unset: readSecretVariable({}, 'T').problem,
      missing: readSecretVariable({ T_FILE: join(dir, 'nope') }, 'T').problem,
      empty: readSecretVariable({ T_FILE: empty }, 'T').problem,
      big: readSecretVariable({ T_FILE: big }, 'T').problem,
      short: readSecretVariable({ T_FILE: short }, 'T').problem,
      shortDirect: readSecretVariable({ T: 'q7zX' }, 'T').problem,
    };
    expect(problems.unset).toBe('environment variable T is not set (nor T_FILE)');
    expect(problems.missing).toBe(
      `environment variable T_FILE names ${join(dir, 'nope')}, which cannot be read (ENOENT)`,
    );
    expect(problems.empty).toBe(`environment variable T_FILE names ${empty}, which is empty`);
    expect(problems.big).toContain(`environment variable T_FILE names ${big}, which is over`);
    expect(problems.short).toMatch(/^environment variable T_FILE is shorter than \d+ characters/);
    expect(problems.shortDirect).toMatch(/^environment variable T is shorter than \d+ characters/);
    // Root reads any file; only an unprivileged user sees EACCES.
    const denied = readSecretVariable({ T_FILE: unreadable }, 'T');
    if (process.getuid?.() === 0) expect(denied).toEqual({ value: TOKEN });
    else expect(denied.problem).toContain('(EACCES)');
    for (const problem of Object.values(problems)) expect(problem).not.toContain('q7zX');
  });
});

describe('withDatabasePassword', () => {
  const URL_ = 'postgres://postgres@db:5432/campaigns';

  it('leaves the URL as it is when no password is given', () => {
    expect(withDatabasePassword(URL_, {})).toEqual({ url: URL_ });
  });

  it('puts the password from the file DATABASE_PASSWORD_FILE names into the URL, encoded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'db-password-'));
    try {
      await writeFile(join(dir, 'pw'), 'p@ss:w/rd#canary\n');
      const { url } = withDatabasePassword(URL_, { DATABASE_PASSWORD_FILE: join(dir, 'pw') });
      expect(url).toBe('postgres://postgres:p%40ss%3Aw%2Frd%23canary@db:5432/campaigns');
      expect(decodeURIComponent(new URL(url!).password)).toBe('p@ss:w/rd#canary');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a password it cannot read without the password or the URL', () => {
    const read = withDatabasePassword('postgres://u:old-secret@db/x', {
      DATABASE_PASSWORD: 'short',
    });
    expect(read.problem).toMatch(/^environment variable DATABASE_PASSWORD is shorter than/);
    expect(read.problem).not.toContain('old-secret');
  });
});
