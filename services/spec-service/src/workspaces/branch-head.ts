import { spawn } from 'node:child_process';
import { parseRepositoryName, redact, Secret, type CodeHostConfig } from '@campaigns/codehost';

/** The head commit of a branch, null when the branch does not exist; throws when unreadable. */
export type BranchHeadResolver = (
  config: CodeHostConfig,
  repo: string,
  branch: string,
) => Promise<string | null>;

/**
 * Resolves a branch with `git ls-remote` (the `CodeHost` port has no branch lookup). The token
 * reaches git as an `http.extraHeader` through `GIT_CONFIG_*` variables of the child's
 * environment only — never argv, the URL or a file — as libs/codehost's push does.
 */
export const gitLsRemoteBranchHead: BranchHeadResolver = async (config, repo, branch) => {
  const { owner, name } = parseRepositoryName(repo);
  const remoteUrl = `${config.url}/${owner}/${name}.git`;
  const basic = Buffer.from(`x-access-token:${config.token.reveal()}`).toString('base64');
  const settings: [string, string][] = [
    ['credential.helper', ''],
    [`http.${remoteUrl}.extraHeader`, `Authorization: Basic ${basic}`],
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    GCM_INTERACTIVE: 'never',
    GIT_CONFIG_COUNT: String(settings.length),
  };
  settings.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  const ref = `refs/heads/${branch}`;
  const { code, stdout, stderr } = await run('git', ['ls-remote', remoteUrl, ref], env, 60_000);
  if (code !== 0) {
    const output = redact(stderr, [config.token, new Secret(basic)]).trim();
    throw new Error(
      `git ls-remote ${repo} failed (exit ${code ?? 'timeout'}): ${output.split('\n').slice(-3).join(' | ')}`,
    );
  }
  for (const line of stdout.split('\n')) {
    const [sha, name] = line.split('\t');
    if (name === ref && sha !== undefined && /^[0-9a-f]{40}$/.test(sha)) return sha;
  }
  return null;
};

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < 1_000_000) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64_000) stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
