// `npm run screenshots`: PNGs of the dashboard's pages for the README (docs/screenshots/), taken
// in headless Chromium over the whole system with the demo campaign applied twice (so its spec
// has a history) and one bulk comment made through the page.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  applyDemoCampaign,
  DEMO_CAMPAIGN,
  DEMO_REPOS,
  launchChromium,
  signIn,
  startDemoSystem,
} from '../src/test-support/demo-campaign.js';

const OUT = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));

const system = await startDemoSystem();
const browser = await launchChromium();
try {
  await applyDemoCampaign(system, 'Hello from the dashboard, second edition');
  await mkdir(OUT, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const shot = async (name: string) => {
    await page.screenshot({ path: `${OUT}${name}.png` });
    console.log(`docs/screenshots/${name}.png`);
  };

  await page.goto(system.dashboardUrl());
  await page.getByTestId('sign-in').waitFor();
  await shot('dashboard-sign-in');
  await signIn(page, system);
  await page.getByTestId(`campaign-${DEMO_CAMPAIGN}`).waitFor();
  await shot('dashboard-campaigns');

  await page.getByTestId(`campaign-${DEMO_CAMPAIGN}`).click();
  await page.getByTestId('changeset-row').first().waitFor();
  await page.getByTestId('burndown').waitFor();
  await shot('dashboard-campaign');

  await page.getByLabel(`select ${system.env.repo(DEMO_REPOS[0]!)}`).check();
  await page.getByTestId('bulk-message').fill('CI fails here: please have a look');
  await page.getByTestId('bulk-submit').click();
  await page
    .locator('[data-testid="bulk-result"][data-finished="true"]')
    .waitFor({ timeout: 120_000 });
  await page.getByTestId('bulk').scrollIntoViewIfNeeded();
  await shot('dashboard-bulk');

  await page.getByTestId('spec-version').first().scrollIntoViewIfNeeded();
  await page.getByTestId('spec-version').nth(1).locator('summary').click();
  await page.getByTestId('spec-version').nth(1).scrollIntoViewIfNeeded();
  await shot('dashboard-spec-history');

  await page.getByTestId('changeset-link').first().click();
  await page.getByTestId('diff').waitFor();
  await shot('dashboard-changeset');
} finally {
  await browser.close();
  await system.stop();
}
