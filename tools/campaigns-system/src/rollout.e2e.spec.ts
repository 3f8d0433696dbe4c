// M1 item 1 end to end: publications paced by the code host's rollout window and content
// limits (campaigns.config.yaml) and by the campaign's x-campaigns.publicationRate, through
// every real part. The reconciler's rollout clock runs twice as fast (CAMPAIGNS_TIME_SCALE), so
// a limit of 2 a minute lets 2 through every 30 real seconds.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChangesetStatus, FullCampaignStatus } from '@campaigns/contracts';
import { ensureStepImage } from './step-image.js';
import { startSystem, storedEvents, type RunningSystem } from './test-support/system.js';

const REPOS = ['repo-00001', 'repo-00002', 'repo-00003', 'repo-00004'];

function specText(name: string, repo: (name: string) => string, rate?: string): string {
  return `name: ${name}
on:
${REPOS.map((r) => `  - repository: ${repo(r)}\n`).join('')}steps:
  - run: echo rollout | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Rollout
  body: Paced
  branch: ${name}
  commit:
    message: Append to README.md
  published: true
${rate === undefined ? '' : `x-campaigns:\n  publicationRate: "${rate}"\n`}`;
}

describe('rollout end to end', () => {
  let system: RunningSystem;

  async function status(name: string): Promise<FullCampaignStatus> {
    const result = await system.cli(['status', name, '--json']);
    if (result.code !== 0) throw new Error(`status exited ${result.code}\n${result.stderr}`);
    return JSON.parse(result.stdout) as FullCampaignStatus;
  }
  async function until(
    name: string,
    done: (changesets: ChangesetStatus[]) => boolean,
    what: string,
  ): Promise<ChangesetStatus[]> {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const s = await status(name);
      if (done(s.changesets)) return s.changesets;
      if (Date.now() > deadline)
        throw new Error(`${what} did not happen: ${JSON.stringify(s.changesets, null, 1)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  async function apply(name: string, rate?: string): Promise<void> {
    const file = join(system.workDir, `${name}.campaign.yaml`);
    await writeFile(file, specText(name, system.env.repo, rate));
    const result = await system.cli(['apply', '-f', file]);
    if (result.code !== 0) throw new Error(`apply exited ${result.code}\n${result.stderr}`);
  }
  const scheduledEvents = async (campaign: string) =>
    (await storedEvents(system.db.pool)).filter(
      (e) => e.type === 'ChangesetScheduled' && e.data['campaign'] === campaign,
    );

  beforeAll(async () => {
    await ensureStepImage();
    system = await startSystem({
      repos: REPOS.length,
      codeHostSettings: `rolloutWindows:
  - rate: 120/minute
contentLimits: { perMinute: 2, perHour: 100 }`,
      serviceEnv: { CAMPAIGNS_TIME_SCALE: '2' },
    });
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
  }, 60_000);

  it('a campaign whose publication rate is 0 is scheduled with no expected time and publishes nothing', async () => {
    await apply('rollout-paused', '0');
    const changesets = await until(
      'rollout-paused',
      (cs) => cs.length === REPOS.length && cs.every((c) => c.state === 'scheduled'),
      'every changeset scheduled',
    );
    expect(changesets.every((c) => c.scheduledFor === null && c.url === null)).toBe(true);
    for (const repo of REPOS) {
      const response = await fetch(`${system.env.sim.apiUrl}/repos/acme/${repo}/pulls?state=all`, {
        headers: { authorization: `token ${system.env.sim.adminToken}` },
      });
      expect(await response.json()).toEqual([]);
    }
  }, 300_000);

  it('publishes 2 a minute under the content limit: the rest wait, shown scheduled with when', async () => {
    await apply('rollout-paced');
    // Positive signal first: some are open, and some wait with an expected time.
    const waiting = await until(
      'rollout-paced',
      (cs) =>
        cs.some((c) => c.state === 'open') &&
        cs.some((c) => c.state === 'scheduled' && typeof c.scheduledFor === 'string'),
      'some open while others are scheduled',
    );
    expect(waiting.filter((c) => c.state === 'open').length).toBeLessThanOrEqual(2);
    const table = await system.cli(['status', 'rollout-paced']);
    expect(table.stdout).toMatch(/scheduled .*expected \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

    const done = await until(
      'rollout-paced',
      (cs) => cs.length === REPOS.length && cs.every((c) => c.state === 'open'),
      'every changeset open',
    );
    expect(done.every((c) => c.url !== null)).toBe(true);
    // Only those that had to wait were scheduled, each for a time the host's limits allow.
    const scheduled = new Set(
      (await scheduledEvents('rollout-paced')).map((e) => e.data['changesetId']),
    );
    expect(scheduled.size).toBeGreaterThanOrEqual(REPOS.length - 2);
    expect(scheduled.size).toBeLessThan(REPOS.length);
    expect(system.env.sim.core.limitRefusals).toEqual({ primary: 0, secondary: 0 });
  }, 300_000);

  it('the paused campaign publishes once its rate allows it, behind the other', async () => {
    await apply('rollout-paused', 'unlimited');
    const done = await until(
      'rollout-paused',
      (cs) => cs.length === REPOS.length && cs.every((c) => c.state === 'open'),
      'every changeset open',
    );
    expect(done.every((c) => c.url !== null)).toBe(true);
  }, 300_000);
});
