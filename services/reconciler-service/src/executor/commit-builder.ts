import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeHostError, redact, Secret } from '@campaigns/codehost';

export interface BuildCommitInput {
  /** Host-qualified repository, for messages. */
  repo: string;
  /** Clone URL without credentials, e.g. https://github.com/acme/api.git. */
  remoteUrl: string;
  token: Secret;
  baseRef: string;
  baseRevision: string;
  /** `git diff --binary` output. */
  diff: Buffer;
  message: string;
  author: { name: string; email: string };
  /** Author and committer date: the spec event's recorded_at, so a retry makes the same commit. */
  date: Date;
}

/** A local repository holding the built commit; `dispose` deletes it. */
export interface BuiltCommit {
  localRepoPath: string;
  commitSha: string;
  dispose(): Promise<void>;
}

/**
 * Builds the spec's commit in a temporary repository: fetches the base revision from the code
 * host (the token reaches git only as an `http.extraHeader` in the child's environment), applies
 * the diff and commits it with the template's author and a fixed date, so the same spec always
 * gives the same commit sha.
 */
export async function buildCommit(input: BuildCommitInput): Promise<BuiltCommit> {
  const dir = await mkdtemp(join(tmpdir(), 'reconciler-commit-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const git = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
      runGit(dir, args, { ...baseEnv(), ...extraEnv }, input);
    await git(['init', '-q']);
    const auth = authEnv(input.remoteUrl, input.token);
    // Only the base commit (hosts that refuse a fetch by sha get the whole base branch instead).
    const fetched = await git(
      ['fetch', '-q', '--no-tags', '--depth=1', input.remoteUrl, input.baseRevision],
      auth,
    ).then(
      () => true,
      () => false,
    );
    if (!fetched) {
      await git(
        ['fetch', '-q', '--no-tags', input.remoteUrl, `+refs/heads/${input.baseRef}:refs/base`],
        auth,
      );
    }
    await git(['checkout', '-q', '--detach', input.baseRevision]).catch((error: unknown) => {
      throw new CodeHostError(
        'terminal',
        `the base revision ${input.baseRevision} is not on ${input.baseRef}`,
        { operation: 'push', repo: input.repo },
        { cause: error },
      );
    });
    const patch = join(dir, '.git', 'campaign.patch');
    await writeFile(patch, input.diff);
    await git(['apply', '--binary', '--index', patch]).catch((error: unknown) => {
      throw new CodeHostError(
        'terminal',
        `the diff does not apply to ${input.baseRevision}: ${(error as Error).message}`,
        { operation: 'push', repo: input.repo },
        { cause: error },
      );
    });
    const date = `${Math.floor(input.date.getTime() / 1000)} +0000`;
    await git(['commit', '-q', '--no-verify', '--allow-empty', '-F', '-'], {
      GIT_AUTHOR_NAME: input.author.name,
      GIT_AUTHOR_EMAIL: input.author.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: input.author.name,
      GIT_COMMITTER_EMAIL: input.author.email,
      GIT_COMMITTER_DATE: date,
      STDIN: input.message,
    });
    const commitSha = (await git(['rev-parse', 'HEAD'])).trim();
    return { localRepoPath: dir, commitSha, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** No user or system config (hooks, signing, helpers) leaks into the build. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
  };
}

function authEnv(remoteUrl: string, token: Secret): NodeJS.ProcessEnv {
  const basic = Buffer.from(`x-access-token:${token.reveal()}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: '',
    GIT_CONFIG_KEY_1: `http.${remoteUrl}.extraHeader`,
    GIT_CONFIG_VALUE_1: `Authorization: Basic ${basic}`,
  };
}

function runGit(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input: BuildCommitInput,
): Promise<string> {
  const { STDIN: stdin, ...childEnv } = env;
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: childEnv,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < 16_000) stderr += c;
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      const token = input.token.reveal();
      const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
      const output = redact(stderr, [input.token, new Secret(basic)]).trim();
      const auth = /Authentication failed|401|403|could not read Username|denied/i.test(output);
      reject(
        new CodeHostError(
          auth ? 'terminal' : 'retryable',
          `git ${args[0]} failed (exit ${code ?? 'timeout'}): ${output.split('\n').slice(-3).join(' | ')}`,
          { operation: 'push', repo: input.repo },
        ),
      );
    });
  });
}
