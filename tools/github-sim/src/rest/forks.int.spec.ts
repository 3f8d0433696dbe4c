import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Octokit } from '@octokit/rest';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import type { StateChange } from '../state/events.js';
import { webhookEventFor } from '../webhooks/payloads.js';
import { webhookSchemaErrors } from '../webhooks/test-support/webhook-schemas.js';
import { gitCli, OpenApiValidator, tempDir, validatedOctokit } from '../test-support/clients.js';

// Forks as GitHub has them: POST /repos/{owner}/{repo}/forks, the fork as a repository of its
// own (fork, parent, source), git pushes to it, and pull requests whose head is in the fork.
// Every response is validated against GitHub's OpenAPI description; the last test checks it.
describe('forks through @octokit/rest and git', () => {
  let sim: GithubSim;
  let bot: Octokit;
  let admin: Octokit;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const changes: StateChange[] = [];
  const validator = OpenApiValidator.shared();
  const BOT_TOKEN = 'bot-token';

  beforeAll(async () => {
    sim = await startGithubSim({ repos: 2, org: 'acme' });
    // The bot is no member of acme: it can read acme's public repositories, not push to them.
    await sim.control.createUser({ login: 'bot', email: 'bot@example.com' });
    await sim.control.createToken({ login: 'bot', token: BOT_TOKEN });
    await sim.control.createOrg({ login: 'bots', members: ['bot'] });
    bot = validatedOctokit(sim, BOT_TOKEN);
    admin = validatedOctokit(sim, sim.adminToken);
    sim.state.on('change', (change) => changes.push(change));
    work = await tempDir();
  });

  afterAll(async () => {
    await sim.stop();
    await work.cleanup();
  });

  it('forks into the caller’s account with a chosen name, answers 202, and gives the same fork when asked again', async () => {
    const { status, data: fork } = await bot.rest.repos.createFork({
      owner: 'acme',
      repo: 'repo-00001',
      name: 'acme-repo-00001',
      default_branch_only: true,
    });
    expect(status).toBe(202);
    expect(fork).toMatchObject({
      full_name: 'bot/acme-repo-00001',
      fork: true,
      owner: { login: 'bot' },
      default_branch: 'main',
      parent: { full_name: 'acme/repo-00001' },
      source: { full_name: 'acme/repo-00001' },
    });

    const { data: got } = await bot.rest.repos.get({ owner: 'bot', repo: 'acme-repo-00001' });
    expect(got).toMatchObject({
      id: fork.id,
      fork: true,
      parent: { full_name: 'acme/repo-00001' },
    });
    const main = sim.state.getRepository('acme', 'repo-00001')!.branches.main;
    const { data: branch } = await bot.rest.repos.getBranch({
      owner: 'bot',
      repo: 'acme-repo-00001',
      branch: 'main',
    });
    expect(branch.commit.sha).toBe(main);

    const again = await bot.rest.repos.createFork({ owner: 'acme', repo: 'repo-00001' });
    expect(again.data.id).toBe(fork.id);
    const { data: upstream } = await bot.rest.repos.get({ owner: 'acme', repo: 'repo-00001' });
    expect(upstream).toMatchObject({ fork: false, forks_count: 1 });
  });

  it('forks into an organization the caller belongs to, and lists the forks of a repository', async () => {
    const { data: fork } = await bot.rest.repos.createFork({
      owner: 'acme',
      repo: 'repo-00001',
      organization: 'bots',
    });
    expect(fork).toMatchObject({ full_name: 'bots/repo-00001', owner: { login: 'bots' } });
    const { data: forks } = await bot.rest.repos.listForks({ owner: 'acme', repo: 'repo-00001' });
    expect(forks.map((f) => f.full_name).sort()).toEqual([
      'bot/acme-repo-00001',
      'bots/repo-00001',
    ]);
    await expect(
      bot.rest.repos.createFork({ owner: 'acme', repo: 'repo-00002', organization: 'acme' }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('takes a push to the fork over git and opens a pull request from it on the upstream repository', async () => {
    const dir = join(work.path, 'fork');
    await gitCli(work.path, [
      'clone',
      '--quiet',
      sim.gitUrl('bot/acme-repo-00001', BOT_TOKEN),
      'fork',
    ]);
    await gitCli(dir, ['checkout', '--quiet', '-b', 'feature']);
    await writeFile(join(dir, 'FORKED.md'), 'from the fork\n');
    await gitCli(dir, ['add', 'FORKED.md']);
    await gitCli(dir, ['commit', '--quiet', '-m', 'Add FORKED.md']);
    await gitCli(dir, ['push', '--quiet', 'origin', 'feature']);
    const head = await gitCli(dir, ['rev-parse', 'HEAD']);
    // The bot cannot push to the upstream repository itself.
    await expect(
      gitCli(dir, ['push', sim.gitUrl('acme/repo-00001', BOT_TOKEN), 'feature']),
    ).rejects.toThrow(/403|denied/);

    const { data: pull } = await bot.rest.pulls.create({
      owner: 'acme',
      repo: 'repo-00001',
      head: 'bot:feature',
      base: 'main',
      title: 'From a fork',
    });
    expect(pull).toMatchObject({
      head: {
        label: 'bot:feature',
        ref: 'feature',
        sha: head,
        repo: { full_name: 'bot/acme-repo-00001', fork: true },
      },
      base: { ref: 'main', repo: { full_name: 'acme/repo-00001' } },
    });
    expect(sim.state.getRepository('acme', 'repo-00001')!.branches.feature).toBeUndefined();

    const byForkHead = await bot.rest.pulls.list({
      owner: 'acme',
      repo: 'repo-00001',
      head: 'bot:feature',
    });
    expect(byForkHead.data.map((p) => p.number)).toEqual([pull.number]);
    const byUpstreamHead = await bot.rest.pulls.list({
      owner: 'acme',
      repo: 'repo-00001',
      head: 'acme:feature',
    });
    expect(byUpstreamHead.data).toEqual([]);
    await expect(
      bot.rest.pulls.create({
        owner: 'acme',
        repo: 'repo-00001',
        head: 'bot:feature',
        base: 'main',
        title: 'Again',
      }),
    ).rejects.toMatchObject({ status: 422 });
  });

  it('synchronizes the pull request on a push to the fork, lets its author edit it and merges it upstream', async () => {
    const dir = join(work.path, 'fork');
    await writeFile(join(dir, 'FORKED.md'), 'from the fork, again\n');
    await gitCli(dir, ['commit', '--quiet', '-am', 'Change FORKED.md']);
    changes.length = 0;
    await gitCli(dir, ['push', '--quiet', 'origin', 'feature']);
    const head = await gitCli(dir, ['rev-parse', 'HEAD']);
    const synchronize = changes.find(
      (c) => c.type === 'pull_request' && c.action === 'synchronize',
    );
    expect(synchronize).toMatchObject({
      repository: { owner: 'acme', name: 'repo-00001' },
      after: head,
    });
    // Its webhook goes to the base repository's hooks, the head naming the fork, as GitHub's.
    const event = webhookEventFor(synchronize!, sim.core.json)!;
    expect(webhookSchemaErrors(event.name, event.action, event.payload)).toEqual([]);
    expect(event.payload).toMatchObject({
      repository: { full_name: 'acme/repo-00001' },
      pull_request: { head: { sha: head, repo: { full_name: 'bot/acme-repo-00001', fork: true } } },
    });

    const [open] = (
      await bot.rest.pulls.list({ owner: 'acme', repo: 'repo-00001', head: 'bot:feature' })
    ).data;
    const { data: edited } = await bot.rest.pulls.update({
      owner: 'acme',
      repo: 'repo-00001',
      pull_number: open!.number,
      title: 'From a fork, edited',
    });
    expect(edited).toMatchObject({ title: 'From a fork, edited', head: { sha: head } });
    const { data: read } = await bot.rest.pulls.get({
      owner: 'acme',
      repo: 'repo-00001',
      pull_number: open!.number,
    });
    expect(read).toMatchObject({ mergeable: true, commits: 2, changed_files: 1 });

    const { data: merged } = await admin.rest.pulls.merge({
      owner: 'acme',
      repo: 'repo-00001',
      pull_number: open!.number,
    });
    const { data: file } = await bot.rest.repos.getContent({
      owner: 'acme',
      repo: 'repo-00001',
      path: 'FORKED.md',
      ref: merged.sha,
    });
    expect(Buffer.from((file as { content: string }).content, 'base64').toString()).toBe(
      'from the fork, again\n',
    );
  });

  it('with forkDelayMs, keeps a new fork out of sight for a while after answering 202, as GitHub makes it in the background', async () => {
    await sim.control.configureFaults({ forkDelayMs: 1500 });
    try {
      const { status, data: fork } = await bot.rest.repos.createFork({
        owner: 'acme',
        repo: 'repo-00002',
      });
      expect(status).toBe(202);
      await expect(bot.rest.repos.get({ owner: 'bot', repo: fork.name })).rejects.toMatchObject({
        status: 404,
      });
      let seen = 0;
      for (let tries = 0; seen !== 200 && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        seen = await bot.rest.repos
          .get({ owner: 'bot', repo: fork.name })
          .then((r) => r.status as number)
          .catch((e: { status: number }) => e.status);
      }
      expect(seen).toBe(200);
    } finally {
      await sim.control.configureFaults({ forkDelayMs: 0 });
    }
  });

  it('served only responses that match GitHub’s OpenAPI description', () => {
    expect(validator.failures).toEqual([]);
    expect(validator.validated.size).toBeGreaterThan(8);
  });
});
