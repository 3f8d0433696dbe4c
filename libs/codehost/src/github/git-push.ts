import { spawn } from 'node:child_process';
import { CodeHostError } from '../errors.js';
import { redact, Secret } from '../secret.js';

export interface GitPushOptions {
  /** Clone URL without credentials, e.g. https://github.com/acme/api.git. */
  remoteUrl: string;
  localRepoPath: string;
  commitSha: string;
  branch: string;
  force: boolean;
  token: Secret;
  /** For error messages: the host-qualified repository. */
  repo: string;
  timeoutMs?: number;
}

/**
 * Pushes with the real `git`. The token reaches git as an `http.extraHeader` given through
 * `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` in the child's environment only:
 * never in argv (visible to every user in `ps`), the remote URL, `.git/config`, a credential
 * store or a file. The environment of a process is readable only by its own user and root.
 * Credential helpers are switched off so none can store it; prompts are off so a bad token
 * fails instead of hanging.
 */
export async function pushCommitToBranch(options: GitPushOptions): Promise<void> {
  const basic = Buffer.from(`x-access-token:${options.token.reveal()}`).toString('base64');
  const config: [string, string][] = [
    ['credential.helper', ''],
    [`http.${options.remoteUrl}.extraHeader`, `Authorization: Basic ${basic}`],
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    GCM_INTERACTIVE: 'never',
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  const refspec = `${options.force ? '+' : ''}${options.commitSha}:refs/heads/${options.branch}`;
  // --no-verify: a pushed workspace's hooks are not ours to run, and they would inherit the header.
  const args = ['-C', options.localRepoPath, 'push', '--no-verify', options.remoteUrl, refspec];
  const { code, stderr } = await run('git', args, env, options.timeoutMs ?? 120_000);
  if (code === 0) return;
  const output = redact(stderr, [options.token, new Secret(basic)]).trim();
  const context = { operation: `push ${options.branch}`, repo: options.repo };
  const rejected =
    /\[rejected\]|non-fast-forward|fetch first|stale info|Updates were rejected/.test(output);
  const auth = /Authentication failed|401|403|could not read Username|denied/i.test(output);
  const missingCommit = /src refspec|bad object|does not match any|not a git repository/i.test(
    output,
  );
  const kind = rejected || auth || missingCommit ? 'terminal' : 'retryable';
  const hint = rejected
    ? ' — the branch moved on the code host; push with force to replace it'
    : auth
      ? " — check the code host's token"
      : '';
  throw new CodeHostError(
    kind,
    `git push failed (exit ${code ?? 'timeout'}): ${lastLines(output)}${hint}`,
    context,
  );
}

function lastLines(text: string): string {
  return text.split('\n').slice(-5).join(' | ');
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64_000) stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
