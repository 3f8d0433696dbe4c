import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRepositoryName, redact, Secret, type CodeHostConfig } from '@campaigns/codehost';

/** Each file's text at a commit; null for a binary file or one over `MAX_SEARCHED_FILE_BYTES`. */
export type FileContents = ReadonlyMap<string, string | null>;

/** Reads the files of a repository at a commit, for content search. */
export type HeadContentsReader = (
  config: CodeHostConfig,
  repo: string,
  commit: string,
) => Promise<FileContents>;

/** Larger files are not searched, as on Sourcegraph (its default limit is 1 MB). */
export const MAX_SEARCHED_FILE_BYTES = 1024 * 1024;

/**
 * Fetches one commit, depth 1, into a scratch bare repository and reads every file of its tree
 * (`git fetch`, `ls-tree`, one `cat-file --batch`), then deletes the scratch repository. The
 * token reaches git as an `http.extraHeader` through `GIT_CONFIG_*` variables of the child's
 * environment only, as `gitLsRemoteBranchHead` passes it.
 */
export const gitHeadContents: HeadContentsReader = async (config, repo, commit) => {
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
  const dir = await mkdtemp(join(tmpdir(), 'campaigns-content-'));
  const git = async (args: string[], input?: string) => {
    const result = await run('git', ['--git-dir', dir, ...args], env, input);
    if (result.code !== 0) {
      const output = redact(result.stderr, [config.token, new Secret(basic)]).trim();
      throw new Error(
        `reading ${repo} at ${commit} for content search failed: git ${args[0]} exited ${result.code ?? 'on timeout'}: ${output.split('\n').slice(-3).join(' | ')}`,
      );
    }
    return result.stdout;
  };
  try {
    await git(['init', '--bare', '--quiet']);
    await git(['fetch', '--quiet', '--no-tags', '--depth=1', remoteUrl, commit]);
    const entries = (await git(['ls-tree', '-r', '-l', '-z', commit]))
      .toString('utf8')
      .split('\0')
      .flatMap((line) => {
        const m = /^\d+ blob ([0-9a-f]+) +(\d+)\t(.*)$/s.exec(line);
        return m === null ? [] : [{ sha: m[1]!, size: Number(m[2]), path: m[3]! }];
      });
    const searched = entries.filter((e) => e.size <= MAX_SEARCHED_FILE_BYTES);
    const blobs = parseBatch(
      await git(['cat-file', '--batch'], searched.map((e) => `${e.sha}\n`).join('')),
    );
    const contents = new Map<string, string | null>();
    for (const entry of entries) {
      const blob = blobs.get(entry.sha);
      contents.set(
        entry.path,
        blob === undefined || blob.subarray(0, 8000).includes(0) ? null : blob.toString('utf8'),
      );
    }
    return contents;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** `cat-file --batch` output: `<sha> <type> <size>\n<content>\n` per object. */
function parseBatch(out: Buffer): Map<string, Buffer> {
  const blobs = new Map<string, Buffer>();
  let at = 0;
  while (at < out.length) {
    const newline = out.indexOf(10, at);
    if (newline < 0) break;
    const [sha, type, size] = out.toString('utf8', at, newline).split(' ');
    const length = Number(size);
    if (type === undefined || !Number.isInteger(length)) {
      at = newline + 1; // "<sha> missing"
      continue;
    }
    blobs.set(sha!, out.subarray(newline + 1, newline + 1 + length));
    at = newline + 1 + length + 1;
  }
  return blobs;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64_000) stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    if (input !== undefined) {
      // A git that exits early (its error is on stderr) closes stdin: that is not a failure here.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(input);
    }
  });
}
