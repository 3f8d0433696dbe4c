import { execFile } from 'node:child_process';

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
}

/** Runs git without a shell and without prompting; resolves with stdout as a Buffer. */
export function gitBuffer(args: readonly string[], options: GitOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        encoding: 'buffer',
        maxBuffer: 1024 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
      },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === 'number' ? err.code : null;
          reject(new GitError(args, stderr.toString(), code));
        } else {
          resolve(stdout);
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
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
