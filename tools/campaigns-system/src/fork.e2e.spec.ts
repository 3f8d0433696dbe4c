// C1 item 3 end to end: a campaign with changesetTemplate.fork: true through every real part
// (the CLI, the four services as processes, NATS, PostgreSQL, Docker, git and the simulator):
// its branches go to forks in the bot's namespace, never to the repositories themselves.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FullCampaignStatus } from '@campaigns/contracts';
import { SIM_BOT_LOGIN } from './sim-environment.js';
import { ensureStepImage } from './step-image.js';
import { startSystem, type RunningSystem } from './test-support/system.js';

const REPOS = ['repo-00001', 'repo-00002'];

/** `repo` names a repository host-qualified, as the simulator serves it. */
function specText(word: string, repo: (name: string) => string): string {
  return `name: hello-fork
description: Add ${word} to READMEs, from forks
on:
${REPOS.map((name) => `  - repository: ${repo(name)}\n`).join('')}steps:
  - run: echo ${word} | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Hello from a fork
  body: Pushed to a fork
  branch: hello-fork
  fork: true
  commit:
    message: Append ${word} to README.md
  published: true
`;
}

interface PullJson {
  number: number;
  state: string;
  head: { ref: string; sha: string; label: string; repo: { full_name: string; fork: boolean } };
}

describe('changesetTemplate.fork end to end', () => {
  let system: RunningSystem;
  let specFile: string;

  async function get(path: string): Promise<Response> {
    return fetch(`${system.env.sim.apiUrl}${path}`, {
      headers: { authorization: `token ${system.env.sim.adminToken}` },
    });
  }
  async function api<T>(path: string): Promise<T> {
    const response = await get(path);
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
  const pulls = (name: string) => api<PullJson[]>(`/repos/acme/${name}/pulls?state=all`);
  const forkOf = (name: string) => `${SIM_BOT_LOGIN}/acme-${name}`;

  async function applyAndWait(text: string): Promise<FullCampaignStatus> {
    await writeFile(specFile, text);
    const result = await system.cli(['apply', '-f', specFile, '--wait', '--json']);
    if (result.code !== 0)
      throw new Error(`apply exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return (JSON.parse(result.stdout) as { status: FullCampaignStatus }).status;
  }

  beforeAll(async () => {
    await ensureStepImage();
    system = await startSystem({ repos: 2 });
    specFile = join(system.workDir, 'hello-fork.campaign.yaml');
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
  }, 60_000);

  it('opens each pull request from a fork in the bot’s namespace, pushes nothing upstream, and shows it open', async () => {
    const status = await applyAndWait(specText('Hello', system.env.repo));
    expect(status.phase).toBe('complete');
    expect(status.changesets.map((c) => c.state)).toEqual(['open', 'open']);

    for (const name of REPOS) {
      const [pr, ...others] = await pulls(name);
      expect(others).toEqual([]);
      expect(pr).toMatchObject({
        state: 'open',
        head: {
          ref: 'hello-fork',
          label: `${SIM_BOT_LOGIN}:hello-fork`,
          repo: { full_name: forkOf(name), fork: true },
        },
      });
      expect((await get(`/repos/acme/${name}/branches/hello-fork`)).status).toBe(404);
      const branch = await api<{ commit: { sha: string } }>(
        `/repos/${forkOf(name)}/branches/hello-fork`,
      );
      expect(branch.commit.sha).toBe(pr!.head.sha);
    }
  }, 600_000);

  it('pushes a changed spec to the forks’ branches, not upstream', async () => {
    const before = new Map(
      await Promise.all(REPOS.map(async (n) => [n, (await pulls(n))[0]!] as const)),
    );
    const status = await applyAndWait(specText('Hi', system.env.repo));
    expect(status.phase).toBe('complete');
    expect(status.changesets.map((c) => c.state)).toEqual(['open', 'open']);

    for (const name of REPOS) {
      const [pr, ...others] = await pulls(name);
      expect(others).toEqual([]);
      expect(pr!.number).toBe(before.get(name)!.number);
      expect(pr!.head.sha).not.toBe(before.get(name)!.head.sha);
      expect(pr!.head.repo.full_name).toBe(forkOf(name));
      const file = await api<{ content: string }>(
        `/repos/${forkOf(name)}/contents/README.md?ref=hello-fork`,
      );
      expect(Buffer.from(file.content, 'base64').toString('utf8').endsWith('Hi\n')).toBe(true);
      expect((await get(`/repos/acme/${name}/branches/hello-fork`)).status).toBe(404);
    }
  }, 600_000);
});
