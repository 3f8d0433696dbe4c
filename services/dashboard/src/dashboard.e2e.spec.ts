// U1 item 3 end to end: the web dashboard over the whole real system (the four services and the
// dashboard as processes, NATS, PostgreSQL, Docker, git, the simulator), clicked through in
// headless Chromium: the campaigns list, a campaign's changesets filtered by state and checks,
// a changeset's diff and timeline, and a bulk comment that lands on the simulator; sign-in with
// an access token, which spec-service checks on every request (S2).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSystem } from '@campaigns/system/testing';
import type { Browser, Page } from 'playwright-core';
import {
  applyDemoCampaign,
  DEMO_CAMPAIGN,
  DEMO_REPOS,
  launchChromium,
  signIn,
  simApi,
  startDemoSystem,
} from './test-support/demo-campaign.js';

const COMMENT = 'Checks fail here: a look, please (from the dashboard)';
const ROW = '[data-testid="changeset-row"]';

describe('the dashboard, clicked through in Chromium', () => {
  let system: RunningSystem;
  let browser: Browser;
  let page: Page;
  /** What the pages threw or logged as errors in the browser, for the last test. */
  const browserErrors: string[] = [];

  /** Waits until the page shows exactly `n` elements matching `selector`. */
  const countIs = (selector: string, n: number) =>
    page.waitForFunction(`document.querySelectorAll(${JSON.stringify(selector)}).length === ${n}`);

  beforeAll(async () => {
    system = await startDemoSystem();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => browserErrors.push(error.message));
    page.on('console', (m) => {
      // The browser logs every 401 as an error: expected where sign-in is asked or refused.
      const signInRefused = m.location().url.endsWith('/api/session') && m.text().includes('401');
      if (m.type() === 'error' && !signInRefused)
        browserErrors.push(`${m.text()} (${m.location().url})`);
    });
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  }, 60_000);

  /** A fetch of the dashboard's API as the CLI user (a script's Authorization header). */
  const asUser = (init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: {
      ...(init.headers as Record<string, string> | undefined),
      authorization: `Bearer ${system.baseEnv['CAMPAIGN_TOKEN']}`,
    },
  });

  it('asks for an access token first, refuses one that is not valid, and signs in with a real one', async () => {
    await page.goto(system.dashboardUrl());
    await page.getByTestId('sign-in').waitFor();
    expect(await page.getByTestId(`campaign-${DEMO_CAMPAIGN}`).count()).toBe(0);
    const forged = `cmp_${'x'.repeat(43)}`;
    await page.getByTestId('sign-in-token').fill(forged);
    await page.getByTestId('sign-in-submit').click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/^not authenticated: /);
    expect(await page.getByRole('alert').textContent()).not.toContain(forged);

    await signIn(page, system);
    expect(await page.getByTestId('session').textContent()).toContain('e2e-tester (site admin)');
    // The token is in a cookie the page's scripts cannot read.
    expect(await page.evaluate('document.cookie')).not.toContain('cmp_');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'campaigns_token');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The API answers nobody without a token.
    const anonymous = await fetch(`${system.dashboardUrl()}/api/campaigns`);
    expect({ status: anonymous.status, body: await anonymous.json() }).toMatchObject({
      status: 401,
      body: { message: 'not signed in' },
    });
  });

  it('lists the campaign, and its page shows the changesets, filtered by state and by checks', async () => {
    await page.getByTestId(`campaign-${DEMO_CAMPAIGN}`).click();
    await page.waitForURL(/\/campaigns\/default\/dashboard-demo$/);
    await countIs(ROW, 3);
    await countIs('[data-testid="burndown"] path[data-state="open"]', 1);

    await page.getByTestId('filter-state').selectOption('merged');
    await page.getByText('No changesets match.').waitFor();
    expect(await page.locator(ROW).count()).toBe(0);

    await page.getByTestId('filter-state').selectOption('open');
    await countIs(ROW, 3);
    const links = await Promise.all(
      (await page.locator(`${ROW} [data-testid="pr-link"]`).all()).map((a) =>
        a.getAttribute('href'),
      ),
    );
    expect(links).toHaveLength(3);
    for (const href of links) expect(href).toMatch(/\/acme\/repo-0000\d\/pull\/\d+$/);

    await page.getByTestId('filter-checks').selectOption('failed');
    await countIs(ROW, 1);
    expect(await page.locator(ROW).getAttribute('data-repository')).toBe(
      system.env.repo(DEMO_REPOS[0]!),
    );
  });

  it("opens a changeset's page with its diff and its audit timeline", async () => {
    await page.locator(`${ROW} [data-testid="changeset-link"]`).click();
    await page.waitForURL(/\/changeset\?/);
    const diff = page.getByTestId('diff');
    await diff.waitFor();
    expect(await diff.textContent()).toContain('+Hello from the dashboard');
    await countIs('[data-testid="timeline"] tr[data-type="ChangesetPublished"]', 1);
    expect(await page.getByTestId('timeline').textContent()).toContain('published PR #');
  });

  it('comments on the selected changeset in bulk, shows the result, and the comment is on the pull request', async () => {
    await page.goBack();
    await page.waitForURL(/\/campaigns\/default\/dashboard-demo$/);
    await countIs(ROW, 3);
    await page.getByLabel(`select ${system.env.repo(DEMO_REPOS[0]!)}`).check();
    await page.getByTestId('bulk-operation').selectOption('comment');
    await page.getByTestId('bulk-message').fill(COMMENT);
    await page.getByTestId('bulk-submit').click();
    const result = page.locator('[data-testid="bulk-result"][data-finished="true"]');
    await result.waitFor({ timeout: 120_000 });
    expect(await result.textContent()).toContain(
      'comment on 1 changeset: 1 done, 0 skipped, 0 failed',
    );

    const sim = simApi(system);
    expect((await sim.comments(DEMO_REPOS[0]!)).map((c) => c.body)).toEqual([COMMENT]);
    // Only on the selected one: the operation was finished before these were read.
    for (const name of DEMO_REPOS.slice(1)) expect(await sim.comments(name)).toEqual([]);
  }, 180_000);

  it('shows the spec as applied and what a new application changed, at its own address', async () => {
    await applyDemoCampaign(system, 'Hello again from the dashboard');
    // The campaign's address, loaded afresh: the service answers it with the app.
    await page.goto(`${system.dashboardUrl()}/campaigns/${DEMO_CAMPAIGN}`);
    await countIs('[data-testid="spec-version"]', 2);
    const current = page.getByTestId('spec-version').first();
    expect(await current.locator('pre.spec-text').textContent()).toContain(
      'title: Hello again from the dashboard',
    );
    const changed = await current.getByTestId('spec-diff').textContent();
    expect(changed).toContain('-  title: Hello from the dashboard\n');
    expect(changed).toContain('+  title: Hello again from the dashboard\n');
  }, 120_000);

  it('offers no bulk action, and refuses one, where the operator turned them off', async () => {
    const proc = await system.start('dashboard', { env: { DASHBOARD_BULK_ACTIONS: 'off' } });
    const port = system.history().find((p) => p.proc === proc)!.port;
    const readOnly = `http://127.0.0.1:${port}`;
    await page.goto(`${readOnly}/campaigns/${DEMO_CAMPAIGN}`);
    await page.getByTestId('bulk-off').waitFor();
    await countIs(ROW, 3);
    expect(await page.getByTestId('bulk').count()).toBe(0);
    const refused = await fetch(
      `${readOnly}/api/campaigns/${DEMO_CAMPAIGN}/bulk`,
      asUser({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ operation: 'close', repositories: [] }),
      }),
    );
    expect({ status: refused.status, body: await refused.json() }).toEqual({
      status: 403,
      body: {
        statusCode: 403,
        error: 'Forbidden',
        message: 'bulk actions are off on this dashboard (DASHBOARD_BULK_ACTIONS=off)',
      },
    });
    // Nothing was closed: the pull requests are still open.
    const listed = await system.cli(['changesets', DEMO_CAMPAIGN, '--state', 'open', '--json']);
    expect((JSON.parse(listed.stdout) as { changesets: unknown[] }).changesets).toHaveLength(3);
  });

  it('answers bad input with 400 and one line, and an unknown campaign with 404', async () => {
    const get = async (path: string) => {
      const response = await fetch(`${system.dashboardUrl()}${path}`, asUser());
      return { status: response.status, body: (await response.json()) as { message: string } };
    };
    expect(await get('/api/campaigns/bad%20name')).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        message: 'the campaign name must be letters, digits, "_", "." or "-" (at most 255)',
      },
    });
    expect(await get('/api/campaigns?limit=100000')).toEqual({
      status: 400,
      body: { statusCode: 400, message: '"limit" must be a whole number from 1 to 100' },
    });
    expect(await get(`/api/campaigns/${DEMO_CAMPAIGN}/changesets?state=sideways`)).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        message:
          '"state" must be one of unpublished, pending, scheduled, open, draft, closed, merged, removed, archived, detached; got "sideways"',
      },
    });
    expect((await get('/api/campaigns/no-such-campaign')).status).toBe(404);
    const bulk = await fetch(
      `${system.dashboardUrl()}/api/campaigns/${DEMO_CAMPAIGN}/bulk`,
      asUser({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ operation: 'comment', repositories: [] }),
      }),
    );
    expect({ status: bulk.status, body: await bulk.json() }).toEqual({
      status: 400,
      body: { statusCode: 400, message: 'a comment needs a message' },
    });
  });

  it('signs the browser out at its next request once its token is revoked', async () => {
    const created = await system.cli(['admin', 'users', 'create', 'dana']);
    expect(created.code).toBe(0);
    const issued = await system.cli(['admin', 'tokens', 'create', 'dana']);
    const token = /cmp_[A-Za-z0-9_-]+/.exec(issued.stdout)![0];
    const context = await browser.newContext();
    const other = await context.newPage();
    try {
      await other.goto(system.dashboardUrl());
      await signIn(other, system, token);
      expect(await other.getByTestId('session').textContent()).toContain('dana');
      // Her own namespace, empty; the site's campaign is not hers to see (S2 permissions).
      expect(await other.getByTestId('namespace').inputValue()).toBe('dana');
      await other.getByText('No campaigns in dana yet').waitFor();
      await other.goto(`${system.dashboardUrl()}/campaigns/default/${DEMO_CAMPAIGN}`);
      await other.getByRole('alert').first().waitFor();
      expect(await other.getByRole('alert').first().textContent()).toMatch(
        /^forbidden: dana may not read in namespace default/,
      );
      expect(await other.locator(ROW).count()).toBe(0);

      expect((await system.cli(['admin', 'tokens', 'revoke', 'dana'])).code).toBe(0);
      // The next request the page makes (the campaigns list) finds the token revoked.
      await other.getByRole('link', { name: 'Campaigns' }).click();
      await other.getByTestId('sign-in').waitFor();
      expect(await other.getByTestId('session').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('raised no error in the browser on any page it showed', () => {
    expect(browserErrors).toEqual([]);
  });
});
