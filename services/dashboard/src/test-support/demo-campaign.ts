// What the dashboard's end-to-end test and its screenshots share: Chromium, and the whole
// system with one campaign applied, its pull requests open and CI failing on the first.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureStepImage } from '@campaigns/system';
import { eventually, startSystem, type RunningSystem } from '@campaigns/system/testing';
import { chromium, type Browser, type Page } from 'playwright-core';

export const DEMO_CAMPAIGN = 'dashboard-demo';
export const DEMO_BRANCH = 'hello-dashboard';
export const DEMO_REPOS = ['repo-00001', 'repo-00002', 'repo-00003'];

export function demoSpecText(repo: (name: string) => string, title = 'Hello from the dashboard') {
  return `name: ${DEMO_CAMPAIGN}
description: Add Hello to READMEs
on:
${DEMO_REPOS.map((name) => `  - repository: ${repo(name)}\n`).join('')}steps:
  - run: echo Hello from the dashboard | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: ${title}
  body: Shown in the dashboard
  branch: ${DEMO_BRANCH}
  commit:
    message: Append Hello to README.md
  published: true
`;
}

/** Headless Chromium as Debian packages it, without anything that phones home. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

interface PullJson {
  number: number;
  head: { ref: string; sha: string };
}

/** The simulator's REST API, as its admin. */
export function simApi(system: RunningSystem) {
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${system.env.sim.apiUrl}${path}`, {
      headers: { authorization: `token ${system.env.sim.adminToken}` },
    });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  };
  const pull = async (name: string) =>
    (await get<PullJson[]>(`/repos/acme/${name}/pulls?state=all`)).find(
      (p) => p.head.ref === DEMO_BRANCH,
    )!;
  return {
    pull,
    comments: async (name: string) =>
      get<{ body: string }[]>(`/repos/acme/${name}/issues/${(await pull(name)).number}/comments`),
  };
}

/** Applies the demo campaign with the CLI and waits for it, then fails CI on the first repository. */
export async function applyDemoCampaign(system: RunningSystem, title?: string): Promise<void> {
  const specFile = join(system.workDir, 'dashboard.campaign.yaml');
  await writeFile(specFile, demoSpecText(system.env.repo, title));
  const applied = await system.cli(['apply', '-f', specFile, '--wait', '--json']);
  if (applied.code !== 0) throw new Error(`apply exited ${applied.code}: ${applied.stderr}`);
  const sim = simApi(system);
  for (const [i, name] of DEMO_REPOS.entries())
    await system.env.sim.control.call('setStatus', {
      owner: 'acme',
      name,
      sha: (await sim.pull(name)).head.sha,
      state: i === 0 ? 'failure' : 'success',
      context: 'ci/build',
    });
  await eventually('the failed check to be seen', async () => {
    const listed = await system.cli(['changesets', DEMO_CAMPAIGN, '--checks', 'failed', '--json']);
    const { changesets } = JSON.parse(listed.stdout) as { changesets: unknown[] };
    return changesets.length === 1 ? true : undefined;
  });
}

/** The system with the dashboard, and the demo campaign applied. */
export async function startDemoSystem(): Promise<RunningSystem> {
  await ensureStepImage();
  const system = await startSystem({
    repos: DEMO_REPOS.length,
    dashboard: true,
  });
  try {
    await applyDemoCampaign(system);
    return system;
  } catch (error) {
    await system.stop().catch(() => undefined);
    throw error;
  }
}

/** Signs the page in with the system's CLI user's token (a site admin), through the form. */
export async function signIn(page: Page, system: RunningSystem, token?: string): Promise<void> {
  await page.getByTestId('sign-in-token').fill(token ?? system.baseEnv['CAMPAIGN_TOKEN']!);
  await page.getByTestId('sign-in-submit').click();
  await page.getByTestId('session').waitFor();
}
