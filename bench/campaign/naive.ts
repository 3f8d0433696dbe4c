// The baseline of `npm run bench:campaign`: what someone would script without Campaigns. Per
// repository: a shallow clone over HTTP with the bot's token, the step in the same container,
// a commit, a push to a new branch and one REST call to open the pull request. Real commands,
// run sequentially or by a pool of workers.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface NaiveOptions {
  /** The simulator's root URL, e.g. http://127.0.0.1:41234. */
  url: string;
  token: string;
  owner: string;
  /** Repository names and their default branches. */
  repos: readonly { name: string; base: string }[];
  /** The branch every repository's change is pushed to; one per run. */
  branch: string;
  /** Repositories in flight at once (1 = sequential). */
  workers: number;
  /** Where the clones go (each removed once its pull request is open). */
  workDir: string;
  image: string;
  step: string;
  title: string;
  body: string;
  commitMessage: string;
}

export interface NaiveResult {
  repos: number;
  seconds: number;
  reposPerSecond: number;
}

export async function runNaiveLoop(options: NaiveOptions): Promise<NaiveResult> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(options.workers, options.repos.length) }, async () => {
      for (;;) {
        const repo = options.repos[next++];
        if (repo === undefined) return;
        await changeOne(options, repo);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { repos: options.repos.length, seconds, reposPerSecond: options.repos.length / seconds };
}

async function changeOne(
  options: NaiveOptions,
  repo: { name: string; base: string },
): Promise<void> {
  const dir = await mkdtemp(join(options.workDir, `${repo.name}-`));
  try {
    // The token as GitHub takes it from git: Basic x-access-token:TOKEN, never stored in the clone.
    const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${options.token}`).toString('base64')}`;
    const remote = `${options.url}/${options.owner}/${repo.name}.git`;
    await run('git', ['-c', auth, 'clone', '--quiet', '--depth', '1', remote, dir]);
    await run('docker', [
      'run',
      '--rm',
      '-v',
      `${dir}:/work`,
      '-w',
      '/work',
      options.image,
      'sh',
      '-c',
      options.step,
    ]);
    await run('git', [
      '-C',
      dir,
      '-c',
      'user.name=Naive Bench',
      '-c',
      'user.email=naive-bench@example.com',
      'commit',
      '--quiet',
      '-am',
      options.commitMessage,
    ]);
    await run('git', [
      '-C',
      dir,
      '-c',
      auth,
      'push',
      '--quiet',
      'origin',
      `HEAD:refs/heads/${options.branch}`,
    ]);
    const response = await fetch(
      `${options.url}/api/v3/repos/${options.owner}/${repo.name}/pulls`,
      {
        method: 'POST',
        headers: {
          authorization: `token ${options.token}`,
          accept: 'application/vnd.github+json',
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          title: options.title,
          body: options.body,
          head: options.branch,
          base: repo.base,
        }),
      },
    );
    if (response.status !== 201) {
      throw new Error(
        `opening the pull request in ${repo.name}: HTTP ${response.status} ${await response.text()}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${command} ${args.filter((a) => !a.startsWith('http.extraHeader')).join(' ')} exited ${code}: ${stderr.trim()}`,
          ),
        );
    });
  });
}
