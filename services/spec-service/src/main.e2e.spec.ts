import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { campaignsCatalogue, campaignStream, PostgresEventStore } from '@campaigns/events';
import {
  apiSubject,
  type ApiReply,
  type ApplyResult,
  type CampaignStatus,
} from '@campaigns/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  createTestDatabase,
  type TestDatabase,
  eventually,
  connectTestNats,
} from '@campaigns/events/testing';
import {
  freePort,
  spawnService,
  type ServiceProcess,
  deleteEventsStream,
  uniqueEventsEnv,
} from '@campaigns/service-kit/testing';

import { bearerHeaders, issueTestToken } from './test-support/access-token.js';

const entry = 'services/spec-service/dist/main.js';

/** A spec with no `on:`: resolving it needs no code host, so the whole loop runs offline. */
const SPEC = `name: e2e-campaign
steps:
  - run: echo hi
    container: alpine:3
changesetTemplate:
  title: E2E
  branch: e2e
  commit:
    message: E2E
`;

describe(`node ${entry}`, () => {
  let db: TestDatabase;
  let dir: string;
  let nats: NatsConnection;
  let running: ServiceProcess | undefined;
  const eventsEnv = uniqueEventsEnv();
  const token = 'spec-e2e-token-0123456789';
  /** An access token of the e2e user, issued once the service has created its tables. */
  let accessToken: string;

  beforeAll(async () => {
    db = await createTestDatabase('spec_service_e2e');
    dir = await mkdtemp(join(tmpdir(), 'spec-service-e2e-'));
    await writeFile(
      join(dir, 'campaigns.config.yaml'),
      `codeHosts:
  - id: github
    kind: github
    url: http://127.0.0.1:1
    apiUrl: http://127.0.0.1:1/api/v3
    tokenEnv: SPEC_E2E_TOKEN
    organizations: [acme]
`,
    );
    nats = await connectTestNats();
  });

  afterEach(() => {
    if (running?.child.exitCode === null && running.child.signalCode === null)
      running.child.kill('SIGKILL');
    running = undefined;
  });

  afterAll(async () => {
    await nats.close();
    await deleteEventsStream(eventsEnv);
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function request<T>(verb: 'apply' | 'get', body: unknown): Promise<ApiReply<T>> {
    const subject = apiSubject({ subjectPrefix: eventsEnv.EVENTS_SUBJECT_PREFIX }, verb);
    return (
      await nats.request(subject, JSON.stringify(body), {
        timeout: 10_000,
        headers: bearerHeaders(accessToken),
      })
    ).json();
  }

  it('with a config: serves probes and the API, applies a spec end to end, exits 0 on SIGTERM', async () => {
    const port = await freePort();
    running = spawnService(entry, {
      DATABASE_URL: db.url,
      PORT: String(port),
      CAMPAIGNS_CONFIG: join(dir, 'campaigns.config.yaml'),
      SPEC_E2E_TOKEN: token,
      ...eventsEnv,
    });
    const listening = await running.waitForLog('where it listens', (l) => l.msg === 'listening');
    const url = listening.url as string;

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: {
        database: 'ok',
        nats: 'ok',
        'component:relay:events': 'ok',
        'component:spec_service_desired_state': 'ok',
        'component:spec_service_status': 'ok',
        requests: 'ok',
      },
    });

    // A site admin: its campaign is in the site's namespace, by its bare name.
    accessToken = await issueTestToken(db.pool, 'e2e', { siteAdmin: true });
    const applied = await request<ApplyResult>('apply', {
      fileName: 'e2e.campaign.yaml',
      specText: SPEC,
    });
    expect(applied).toMatchObject({ ok: true, campaign: 'e2e-campaign', unchanged: false });
    const store = new PostgresEventStore(db.pool, campaignsCatalogue());
    const types = async () =>
      (await store.readStream(campaignStream('e2e-campaign'))).map((e) => e.type);
    expect(
      await eventually(async () => (await types()).includes('WorkspacesResolved'), 15_000),
    ).toBe(true);
    expect(await types()).toEqual(['SpecApplied', 'WorkspacesResolved']);
    let status: ApiReply<CampaignStatus> | undefined;
    expect(
      await eventually(async () => {
        status = await request<CampaignStatus>('get', { campaign: 'e2e-campaign' });
        return status.ok && status.phase === 'complete';
      }, 15_000),
    ).toBe(true);
    expect(status).toMatchObject({
      ok: true,
      actor: 'e2e',
      counts: { workspaces: 0, executed: 0, changesets: 0 },
    });

    running.child.kill('SIGTERM');
    const exit = await running.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(running.logs().at(-1)).toMatchObject({ level: 'info', msg: 'shutdown complete' });
    expect(running.stdoutLines.join('\n')).not.toContain(token);
    expect(running.stderr()).toBe('');
  });

  it('without a config file: exits 1 with one fatal line naming CAMPAIGNS_CONFIG', async () => {
    running = spawnService(entry, {
      DATABASE_URL: db.url,
      PORT: '0',
      CAMPAIGNS_CONFIG: join(dir, 'missing.yaml'),
      ...eventsEnv,
    });

    const exit = await running.exited;

    expect(exit.code).toBe(1);
    const fatal = running.logs().filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toMatch(/missing\.yaml.*file not found \(set CAMPAIGNS_CONFIG/);
    expect(fatal[0]!.msg).not.toContain('\n');
    expect(running.stderr()).toBe('');
  });

  it('exits 1 with one fatal line naming PostgreSQL when it is unreachable', async () => {
    running = spawnService(entry, {
      DATABASE_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/campaigns',
      PORT: '0',
      CAMPAIGNS_CONFIG: join(dir, 'campaigns.config.yaml'),
      SPEC_E2E_TOKEN: token,
    });

    const exit = await running.exited;

    expect(exit.code).toBe(1);
    const fatal = running.logs().filter((l) => l.level === 'fatal');
    expect(fatal).toEqual([expect.objectContaining({ dependency: 'PostgreSQL' })]);
    expect(running.stdoutLines.join('\n')).not.toContain('s3cret-pw');
  });
});
