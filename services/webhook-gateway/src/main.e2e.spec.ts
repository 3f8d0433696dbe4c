import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import { describeServiceProcess } from '@campaigns/service-kit/testing/jest';
import {
  freePort,
  spawnService,
  type ServiceProcess,
  deleteEventsStream,
  uniqueEventsEnv,
} from '@campaigns/service-kit/testing';

const ENTRY = 'services/webhook-gateway/dist/main.js';
const configDir = mkdtempSync(join(tmpdir(), 'webhook-gateway-e2e-'));
const configFile = join(configDir, 'campaigns.config.yaml');
writeFileSync(
  configFile,
  `codeHosts:
  - id: github
    kind: github
    url: https://github.com
    apiUrl: https://api.github.com
    tokenEnv: GW_E2E_TOKEN
    webhookSecretEnv: GW_E2E_WEBHOOK_SECRET
`,
);
const configEnv = {
  CAMPAIGNS_CONFIG: configFile,
  GW_E2E_TOKEN: 'ghp_e2e_not_a_real_token',
  GW_E2E_WEBHOOK_SECRET: 'whsec_e2e',
};

describeServiceProcess('webhook-gateway', {
  env: configEnv,
  components: ['webhook_gateway_tracked_pull_requests', 'webhook-recorder', 'parked-deliveries'],
});

describe(`node ${ENTRY} (webhook-gateway's own configuration)`, () => {
  let db: TestDatabase;
  let running: ServiceProcess | undefined;
  const eventsEnv = uniqueEventsEnv();

  beforeAll(async () => {
    db = await createTestDatabase('webhook_gateway_e2e_cfg');
  });
  afterEach(() => {
    if (running?.child.exitCode === null && running.child.signalCode === null)
      running.child.kill('SIGKILL');
    running = undefined;
  });
  afterAll(async () => {
    await deleteEventsStream(eventsEnv);
    await db.drop();
  });

  it('exits 1 with one fatal line naming CAMPAIGNS_CONFIG when the configuration is missing', async () => {
    running = spawnService(ENTRY, {
      DATABASE_URL: db.url,
      PORT: '0',
      CAMPAIGNS_CONFIG: join(configDir, 'missing.yaml'),
      ...eventsEnv,
    });
    const exit = await running.exited;
    expect(exit.code).toBe(1);
    const fatal = running.logs().filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toBe(
      `startup failed: webhook-gateway cannot load the Campaigns configuration ${join(configDir, 'missing.yaml')}: file not found (set CAMPAIGNS_CONFIG to the config file's path)`,
    );
    expect(running.stderr()).toBe('');
  });

  it('answers an oversized or malformed body with a JSON error and nothing on stderr, in production', async () => {
    const port = await freePort();
    running = spawnService(ENTRY, {
      ...configEnv,
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      PORT: String(port),
      ...eventsEnv,
    });
    const listening = await running.waitForLog('where it listens', (l) => l.msg === 'listening');
    const url = `${listening.url as string}/webhooks/github`;
    const headers = { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' };

    const big = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ padding: 'x'.repeat(1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({
      statusCode: 413,
      message: 'request body larger than 1048576 bytes',
    });
    // The signature is checked over the bytes before anything parses them: a forged body that
    // is not JSON is refused as forged (401), a signed one as malformed (400).
    const forged = await fetch(url, { method: 'POST', headers, body: '{"not json' });
    expect(forged.status).toBe(401);
    const signature = `sha256=${createHmac('sha256', configEnv.GW_E2E_WEBHOOK_SECRET)
      .update('{"not json')
      .digest('hex')}`;
    const malformed = await fetch(url, {
      method: 'POST',
      headers: {
        ...headers,
        'x-hub-signature-256': signature,
        'x-github-event': 'pull_request',
        'x-github-delivery': 'e2e-malformed',
      },
      body: '{"not json',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'the webhook body is not a JSON object' });

    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
    expect(running.stderr()).toBe('');
  });
});
