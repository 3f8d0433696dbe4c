// Plumbing over real bare repositories: every read and write of repository content goes through
// the `git` binary, so what clients clone is exactly what the API describes.
import { ProcessPool } from '@campaigns/process-pool';

export interface GitIdentity {
  name: string;
  email: string;
  /** ISO date; now when absent. */
  date?: string;
}

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: Buffer,
  ) {
    super(`git ${args.join(' ')} exited with ${exitCode}: ${stderr.trim()}`);
    this.name = 'GitError';
  }
}

export interface RunGitOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  /** Exit codes that are answers rather than failures (merge-tree's 1 = conflicts). */
  okExitCodes?: number[];
}

/** Environment that keeps user and system configuration from changing what git does here. */
const BASE_ENV: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  LANG: 'C',
  LC_ALL: 'C',
};

export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...BASE_ENV, ...extra };
}

export function identityEnv(author: GitIdentity, committer: GitIdentity = author) {
  const env: Record<string, string> = {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
  };
  if (author.date) env.GIT_AUTHOR_DATE = author.date;
  if (committer.date) env.GIT_COMMITTER_DATE = committer.date;
  return env;
}

let pool: ProcessPool | undefined;

/**
 * Git runs through a few long-lived shells instead of a fork of this process per command, which
 * costs the simulator more than most of the commands themselves (see `ProcessPool`).
 */
export function gitPool(): ProcessPool {
  pool ??= new ProcessPool({ env: gitEnv(), max: 16 });
  return pool;
}

/** Runs git in `gitDir` and resolves with stdout and the exit code. */
export async function runGit(
  gitDir: string,
  args: string[],
  options: RunGitOptions = {},
): Promise<{ stdout: Buffer; code: number }> {
  const r = await gitPool().run('git', args, {
    cwd: gitDir,
    env: { GIT_DIR: gitDir, ...options.env },
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  const code = r.code ?? -1;
  if (code === 0 || options.okExitCodes?.includes(code)) return { stdout: r.stdout, code };
  throw new GitError(args, r.code, r.stderr.toString('utf8'), r.stdout);
}

/** Runs git and returns trimmed stdout text. */
export async function git(
  gitDir: string,
  args: string[],
  options?: RunGitOptions,
): Promise<string> {
  const { stdout } = await runGit(gitDir, args, options);
  return stdout.toString('utf8').trim();
}
