import { ProcessPool } from '@campaigns/process-pool';

/** A git command that failed: the command line (never the environment) and git's stderr. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`git ${args.join(' ')} failed (exit ${exitCode}): ${stderr.trim()}`);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  readonly cwd: string;
  /** Extra environment (credentials travel here, never in arguments or files). */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to git's standard input. */
  readonly input?: string | Buffer;
  /** Or a file git reads its standard input from. */
  readonly inputFile?: string;
  /** Git's standard output is not wanted. */
  readonly discardOutput?: boolean;
}

let pool: ProcessPool | undefined;

/**
 * The helpers git runs through: forking this process for each of the several git commands a job
 * runs cost more than the commands themselves (see `ProcessPool`). Made on first use, from the
 * environment as it is then.
 */
function gitPool(): ProcessPool {
  pool ??= new ProcessPool({ env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, max: POOL_SIZE });
  return pool;
}

/** Git commands at once: more than the cores only queue in the kernel instead of here. */
const POOL_SIZE = 16;

/** Runs git without a shell and without prompting; resolves with stdout as a Buffer. */
export async function gitBuffer(args: readonly string[], options: GitOptions): Promise<Buffer> {
  const r = await gitPool().run('git', args, {
    cwd: options.cwd,
    ...(options.env ? { env: options.env } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.inputFile !== undefined ? { inputFile: options.inputFile } : {}),
    ...(options.discardOutput ? { stdout: 'ignore' as const } : {}),
  });
  if (r.code !== 0) throw new GitError(args, r.stderr.toString(), r.code);
  return r.stdout;
}

export async function git(args: readonly string[], options: GitOptions): Promise<string> {
  return (await gitBuffer(args, options)).toString('utf8');
}

/**
 * The environment that makes git send `Authorization` on HTTP(S) requests, through
 * GIT_CONFIG_COUNT/KEY/VALUE, so the token is never written to a config file or a URL.
 */
export function gitTokenEnv(token: string | undefined): Record<string, string> {
  if (!token) return {};
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
  };
}
