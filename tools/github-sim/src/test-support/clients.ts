// Real clients for tests: Octokit with every response validated against GitHub's OpenAPI
// description, and the git command line in throwaway directories.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Octokit } from '@octokit/rest';
import type { GithubSim } from '../github-sim.js';
import { OpenApiValidator } from './openapi-validator.js';

const execFileAsync = promisify(execFile);

type OctokitOptions = NonNullable<ConstructorParameters<typeof Octokit>[0]>;

/** An Octokit against the simulator whose every response (errors too) is checked against GitHub's schemas. */
export function validatedOctokit<T extends typeof Octokit = typeof Octokit>(
  sim: GithubSim,
  token: string | undefined,
  options: { OctokitClass?: T; octokitOptions?: OctokitOptions & Record<string, unknown> } = {},
): InstanceType<T> {
  const validator = OpenApiValidator.shared();
  const Class = options.OctokitClass ?? Octokit;
  const octokit = new Class({
    baseUrl: sim.apiUrl,
    auth: token,
    log: quietLog,
    ...options.octokitOptions,
  }) as InstanceType<T>;
  octokit.hook.after('request', (response, requestOptions) => {
    validator.check(requestOptions.method, requestOptions.url, response.status, response.data);
  });
  octokit.hook.error('request', (error, requestOptions) => {
    const response = (error as { response?: { status: number; data: unknown } }).response;
    if (response)
      validator.check(
        requestOptions.method,
        requestOptions.url,
        response.status,
        response.data === '' ? undefined : response.data,
      );
    throw error;
  });
  return octokit;
}

const quietLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Runs git with no user or system configuration; rejects with stderr on failure. */
export async function gitCli(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'Dev',
      GIT_AUTHOR_EMAIL: 'dev@example.com',
      GIT_COMMITTER_NAME: 'Dev',
      GIT_COMMITTER_EMAIL: 'dev@example.com',
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

/** A temporary directory removed by the returned cleanup. */
export async function tempDir(
  prefix = 'github-sim-test-',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export { OpenApiValidator };
