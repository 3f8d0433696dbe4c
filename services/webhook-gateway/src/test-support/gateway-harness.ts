// A webhook-gateway running in-process over a fresh database and NATS, with one GitHub host
// (github.test, no API behind it) whose webhook secret the tests sign with; helpers to post
// signed deliveries, track pull requests as the reconciler would, and read what was recorded.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  changesetId,
  changesetStream,
  type EventMetadata,
  type PostgresEventStore,
} from '@campaigns/events';
import {
  createTestDatabase,
  eventually,
  TEST_NATS_URL,
  type TestDatabase,
} from '@campaigns/events/testing';
import { loadServiceConfig, startService, type StartedService } from '@campaigns/service-kit';
import {
  capturedLogger,
  deleteEventsStream,
  uniqueEventsEnv,
} from '@campaigns/service-kit/testing';
import { webhookGatewayDefinition } from '../webhook-gateway.definition.js';

export const HOST = 'github.test';
export const SECRET = 'whsec_gateway_harness_secret';
export const CAMPAIGN = 'hello-world';
export const BRANCH = 'hello-world';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export interface GatewayHarness {
  db: TestDatabase;
  service: StartedService;
  store: PostgresEventStore;
  hookUrl: string;
  sign(body: Uint8Array | string, secret?: string): string;
  /** Posts `body` signed with the harness secret (unless headers say otherwise). */
  deliver(event: string, body: string | Buffer, headers?: Record<string, string>): Promise<Answer>;
  /** Appends ChangesetPublished as the reconciler would, and waits until the gateway tracks it. */
  track(repo: string, number: number, headSha: string, title?: string): Promise<string>;
  /** Appends a reconciler event to the changeset of `repo`'s campaign branch. */
  appendAsReconciler(repo: string, type: string, data: Record<string, unknown>): Promise<string>;
  observations(id: string): Promise<Record<string, unknown>[]>;
  counts(): Promise<{ events: number; deliveries: number }>;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export function repository(repo: string): string {
  return `${HOST}/acme/${repo}`;
}

export async function startGatewayHarness(
  env: Record<string, string> = {},
): Promise<GatewayHarness> {
  const db = await createTestDatabase('webhook_gateway_int');
  const dir = mkdtempSync(join(tmpdir(), 'webhook-gateway-'));
  const configFile = join(dir, 'campaigns.config.yaml');
  writeFileSync(
    configFile,
    `codeHosts:
  - id: test
    kind: github
    url: https://${HOST}
    apiUrl: https://api.${HOST}
    tokenEnv: HARNESS_TOKEN
    webhookSecretEnv: HARNESS_WEBHOOK_SECRET
`,
  );
  const eventsEnv = uniqueEventsEnv();
  const definition = webhookGatewayDefinition({
    CAMPAIGNS_CONFIG: configFile,
    HARNESS_TOKEN: 'ghp_harness_token_not_real',
    HARNESS_WEBHOOK_SECRET: SECRET,
    ...env,
  });
  const config = loadServiceConfig(
    { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, PORT: '0', ...eventsEnv },
    definition.defaultPort,
  );
  const service = await startService(definition, config, capturedLogger('gw', 'fatal').logger);
  const store = service.context.eventStore;
  const hookUrl = `${service.url}/webhooks/github`;

  const sign = (body: Uint8Array | string, secret = SECRET) =>
    `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  const deliver = (event: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      const all: Record<string, string> = {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': sign(bytes),
        'content-length': String(bytes.length),
      };
      for (const [name, value] of Object.entries(headers)) {
        if (value === '') delete all[name.toLowerCase()];
        else all[name.toLowerCase()] = value;
      }
      const req = request(hookUrl, { method: 'POST', headers: all }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(bytes);
    });

  const metadata = (): EventMetadata => ({
    correlation_id: randomUUID(),
    causation_id: null,
    actor: 'test',
    source: 'test',
  });

  const appendAsReconciler = async (repo: string, type: string, data: Record<string, unknown>) => {
    const id = changesetId(CAMPAIGN, repository(repo), BRANCH);
    await store.append(
      changesetStream(id),
      [
        {
          type,
          data: {
            changesetId: id,
            campaign: CAMPAIGN,
            repository: repository(repo),
            headBranch: BRANCH,
            specEventId: randomUUID(),
            ...data,
          },
        },
      ],
      { expected: 'any', metadata: metadata() },
    );
    return id;
  };

  const track = async (repo: string, number: number, headSha: string, title = 'Hello World') => {
    const id = await appendAsReconciler(repo, 'ChangesetPublished', {
      number,
      url: `https://${HOST}/acme/${repo}/pull/${number}`,
      nodeId: `PR_${number}`,
      draft: false,
      baseRef: 'main',
      headRefOid: headSha,
      title,
      body: 'My first campaign!',
    });
    const tracked = await eventually(async () => {
      const { rowCount } = await db.pool.query(
        'SELECT 1 FROM webhook_gateway.tracked_pull_requests WHERE repository = $1 AND number = $2 AND changeset_id = $3',
        [repository(repo), number, id],
      );
      return rowCount === 1;
    });
    if (!tracked) throw new Error(`${repo}#${number} was never tracked`);
    return id;
  };

  const observations = async (id: string) => {
    const { rows } = await db.pool.query<{ data: Record<string, unknown> }>(
      `SELECT data FROM eventstore.events
        WHERE stream_id = $1 AND type = 'ChangesetObserved' ORDER BY stream_version`,
      [changesetStream(id)],
    );
    return rows.map((r) => r.data);
  };

  const counts = async () => {
    const { rows } = await db.pool.query<{ events: string; deliveries: string }>(
      `SELECT (SELECT count(*) FROM eventstore.events) AS events,
              (SELECT count(*) FROM webhook_gateway.deliveries) AS deliveries`,
    );
    return { events: Number(rows[0]!.events), deliveries: Number(rows[0]!.deliveries) };
  };

  const metrics = async () => (await fetch(`${service.url}/metrics`)).text();

  const stop = async () => {
    await service.stop();
    await deleteEventsStream(eventsEnv);
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  };

  return {
    db,
    service,
    store,
    hookUrl,
    sign,
    deliver,
    track,
    appendAsReconciler,
    observations,
    counts,
    metrics,
    stop,
  };
}

/** A `pull_request` payload as GitHub sends it, with what the tests vary. */
export function pullRequestPayload(
  repo: string,
  pr: {
    number: number;
    action?: string;
    title?: string;
    state?: 'open' | 'closed';
    merged?: boolean;
    draft?: boolean;
    headSha: string;
    updatedAt?: string;
    before?: string;
  },
): string {
  return JSON.stringify({
    action: pr.action ?? 'edited',
    number: pr.number,
    ...(pr.before === undefined ? {} : { before: pr.before, after: pr.headSha }),
    pull_request: {
      number: pr.number,
      html_url: `https://${HOST}/acme/${repo}/pull/${pr.number}`,
      title: pr.title ?? 'Hello World',
      state: pr.state ?? 'open',
      merged: pr.merged ?? false,
      merged_at: pr.merged ? (pr.updatedAt ?? '2026-12-05T10:00:00Z') : null,
      draft: pr.draft ?? false,
      updated_at: pr.updatedAt ?? '2026-12-05T10:00:00Z',
      head: { sha: pr.headSha, ref: BRANCH },
    },
    repository: { full_name: `acme/${repo}`, html_url: `https://${HOST}/acme/${repo}` },
    sender: { login: 'octocat' },
  });
}

/** The value of a counter series in Prometheus text, 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
