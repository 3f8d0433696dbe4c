// Namespaces end to end (S2 items 3 and 4): two users' campaigns of one name side by side, and a
// namespace's own code-host token, configured as `namespaces: {NS: {tokenEnv}}`, with which its
// campaigns publish, while the site's campaigns publish with the site-wide token.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FullCampaignStatus } from '@campaigns/contracts';
import { ensureStepImage } from './step-image.js';
import { SIM_BOT_LOGIN } from './sim-environment.js';
import { startSystem, type RunningSystem } from './test-support/system.js';

/** alice's namespace's token on the code host: a canary too, never to be seen anywhere. */
const ALICE_TOKEN_ENV = 'CAMPAIGNS_ALICE_NAMESPACE_TOKEN';
const ALICE_CODE_HOST_TOKEN = `ghp_alicecanary${'5'.repeat(26)}`;
const ALICE_BOT = 'alice-bot';

function specText(repository: string, branch: string): string {
  return `name: hello-world
description: Add Hello World to READMEs
on:
  - repository: ${repository}
steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Hello World
  body: My first campaign!
  branch: ${branch}
  commit:
    message: Append Hello
  published: true
`;
}

interface PullJson {
  title: string;
  body: string | null;
  head: { ref: string };
  user: { login: string };
}

describe('namespaces end to end: users’ campaigns side by side, each namespace pushing with its token', () => {
  let system: RunningSystem;
  let aliceToken: string;

  const repoName = (i: number) => `repo-${String(i).padStart(5, '0')}`;
  async function pulls(i: number): Promise<PullJson[]> {
    const response = await fetch(
      `${system.env.sim.apiUrl}/repos/acme/${repoName(i)}/pulls?state=all&per_page=100`,
      { headers: { authorization: `token ${system.env.sim.adminToken}` } },
    );
    if (!response.ok) throw new Error(`pulls of ${repoName(i)}: ${response.status}`);
    return (await response.json()) as PullJson[];
  }
  /** `campaign apply --wait` of a spec, as the harness's site admin or with `env`. */
  async function applyAndWait(
    name: string,
    text: string,
    flags: string[],
    env: Record<string, string> = {},
  ): Promise<FullCampaignStatus> {
    const file = join(system.workDir, `${name}.campaign.yaml`);
    await writeFile(file, text);
    const result = await system.cli(['apply', '-f', file, '--wait', '--json', ...flags], env);
    if (result.code !== 0)
      throw new Error(`apply exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return (JSON.parse(result.stdout) as { status: FullCampaignStatus }).status;
  }

  beforeAll(async () => {
    await ensureStepImage();
    system = await startSystem({
      repos: 3,
      codeHostSettings: `namespaces:\n  alice:\n    tokenEnv: ${ALICE_TOKEN_ENV}`,
      serviceEnv: { [ALICE_TOKEN_ENV]: ALICE_CODE_HOST_TOKEN },
    });
    // alice's namespace acts on the code host as an account of its own.
    const sim = system.env.sim.control;
    await sim.call('createUser', { login: ALICE_BOT });
    await sim.call('addMember', { org: 'acme', login: ALICE_BOT });
    await sim.call('createToken', { login: ALICE_BOT, token: ALICE_CODE_HOST_TOKEN });
    expect((await system.cli(['admin', 'users', 'create', 'alice'])).code).toBe(0);
    const issued = await system.cli(['admin', 'tokens', 'create', 'alice']);
    expect(issued.code).toBe(0);
    aliceToken = issued.stdout.trim();
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
  }, 60_000);

  it('publishes alice’s hello-world with her namespace’s token and the site’s with the site-wide one', async () => {
    const mine = await applyAndWait(
      'alice',
      specText(system.env.repo(repoName(1)), 'hello-alice'),
      ['-n', 'alice'],
      { CAMPAIGN_TOKEN: aliceToken },
    );
    const site = await applyAndWait(
      'site',
      specText(system.env.repo(repoName(2)), 'hello-site'),
      [],
    );
    expect(mine).toMatchObject({ campaign: 'alice/hello-world', phase: 'complete' });
    expect(site).toMatchObject({ campaign: 'hello-world', phase: 'complete' });

    expect((await pulls(1)).map((p) => [p.head.ref, p.user.login])).toEqual([
      ['hello-alice', ALICE_BOT],
    ]);
    expect((await pulls(2)).map((p) => [p.head.ref, p.user.login])).toEqual([
      ['hello-site', SIM_BOT_LOGIN],
    ]);

    // Each sees their own hello-world; alice may not look at the site's.
    const status = await system.cli(['status', 'hello-world', '--json'], {
      CAMPAIGN_TOKEN: aliceToken,
      CAMPAIGN_NAMESPACE: '',
    });
    expect(JSON.parse(status.stdout)).toMatchObject({ campaign: 'alice/hello-world' });
    const refused = await system.cli(['status', 'hello-world', '-n', 'default'], {
      CAMPAIGN_TOKEN: aliceToken,
    });
    expect(refused).toMatchObject({ code: 4, stdout: '' });
    expect(refused.stderr).toMatch(
      /^campaign status: forbidden: alice may not read in namespace default/,
    );
  }, 180_000);

  it('never lets the namespace’s code-host token reach the event store, the logs or the pull requests', async () => {
    // The positive signal first: alice's pull request exists, so her token was used.
    expect((await pulls(1)).length).toBe(1);
    const { rows } = await system.db.pool.query<{ hit: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM eventstore.events WHERE data::text LIKE $1 OR metadata::text LIKE $1) AS hit`,
      [`%${ALICE_CODE_HOST_TOKEN}%`],
    );
    expect(rows[0]!.hit).toBe(false);
    const blobs = await system.db.pool.query<{ content: Buffer }>(
      `SELECT content FROM eventstore.blobs`,
    );
    expect(blobs.rows.length).toBeGreaterThan(0);
    for (const b of blobs.rows) expect(b.content.includes(ALICE_CODE_HOST_TOKEN)).toBe(false);
    expect(system.allOutput()).not.toContain(ALICE_CODE_HOST_TOKEN);
    for (let i = 1; i <= 3; i++)
      for (const pr of await pulls(i))
        expect(`${pr.title}\n${pr.body}`).not.toContain(ALICE_CODE_HOST_TOKEN);
  });
});
