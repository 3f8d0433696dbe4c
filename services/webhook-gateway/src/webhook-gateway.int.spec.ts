import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  changesetId,
  changesetStream,
  type EventMetadata,
  type PostgresEventStore,
} from '@campaigns/events';
import { loadServiceConfig, startService, type StartedService } from '@campaigns/service-kit';
import { startSimCodeHost, type SimCodeHost } from '@campaigns/codehost/testing';
import {
  createTestDatabase,
  type TestDatabase,
  eventually,
  TEST_NATS_URL,
} from '@campaigns/events/testing';
import {
  capturedLogger,
  deleteEventsStream,
  uniqueEventsEnv,
} from '@campaigns/service-kit/testing';
import { MAX_WEBHOOK_BYTES, webhookGatewayDefinition } from './webhook-gateway.definition.js';

interface ObservedRow {
  stream_id: string;
  type: string;
  event_id: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

interface DeliveryRecord {
  id: number;
  guid: string;
  event: string;
  action: string | null;
  statusCode: number | null;
  request: { headers: Record<string, string>; payload: string };
  response: { payload: string | null };
}

const CAMPAIGN = 'hello-world';
const BRANCH = 'hello-world';

describe('webhook-gateway with the GitHub simulator, PostgreSQL and NATS', () => {
  let db: TestDatabase;
  let sim: SimCodeHost;
  let service: StartedService;
  let store: PostgresEventStore;
  let dir: string;
  let hookUrl: string;
  const eventsEnv = uniqueEventsEnv();
  const { logger } = capturedLogger('webhook-gateway', 'warn');

  beforeAll(async () => {
    db = await createTestDatabase('webhook_gateway_int');
    sim = await startSimCodeHost({ repos: 3 });
    dir = mkdtempSync(join(tmpdir(), 'webhook-gateway-'));
    const configFile = join(dir, 'campaigns.config.yaml');
    writeFileSync(
      configFile,
      `codeHosts:
  - id: sim
    kind: github
    url: ${sim.sim.url}
    apiUrl: ${sim.sim.apiUrl}
    tokenEnv: SIM_TOKEN
    webhookSecretEnv: SIM_WEBHOOK_SECRET
`,
    );
    const definition = webhookGatewayDefinition({
      CAMPAIGNS_CONFIG: configFile,
      SIM_TOKEN: sim.token,
      SIM_WEBHOOK_SECRET: sim.webhookSecret,
    });
    const config = loadServiceConfig(
      { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, PORT: '0', ...eventsEnv },
      definition.defaultPort,
    );
    service = await startService(definition, config, logger);
    store = service.context.eventStore;
    hookUrl = `${service.url}/webhooks/github`;
    await sim.sim.control.call('createHook', {
      owner: 'acme',
      url: hookUrl,
      secret: sim.webhookSecret,
      events: ['pull_request', 'pull_request_review', 'check_suite', 'check_run', 'status'],
    });
  });

  afterAll(async () => {
    await service?.stop();
    await sim?.sim.stop();
    await deleteEventsStream(eventsEnv);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a pull request on the simulator from a fresh branch of `repo`. */
  async function createRepo(name: string) {
    await sim.sim.control.call('createRepo', {
      owner: 'acme',
      name,
      files: { 'README.md': `# ${name}\n` },
    });
  }

  /** Whether the gateway tracks the changeset's pull request. */
  async function isTracked(id: string): Promise<boolean> {
    const { rowCount } = await db.pool.query(
      'SELECT 1 FROM webhook_gateway.tracked_pull_requests WHERE changeset_id = $1',
      [id],
    );
    return rowCount !== 0;
  }

  async function openPullRequest(repo: string) {
    await sim.sim.control.call('pushCommit', {
      owner: 'acme',
      name: repo,
      branch: BRANCH,
      files: { 'HELLO.md': `Hello ${randomUUID()}\n` },
      message: 'Append Hello',
    });
    return sim.sim.control.call('openPullRequest', {
      owner: 'acme',
      name: repo,
      head: BRANCH,
      title: 'Hello World',
    });
  }

  /** Appends an event of the reconciler's to the changeset of `repo`'s campaign branch. */
  async function appendAsReconciler(
    repo: string,
    type: string,
    data: Record<string, unknown>,
  ): Promise<string> {
    return appendChangesetEvent(repo, type, { specEventId: randomUUID(), ...data });
  }

  /** Appends an event of the repository's changeset (its identity filled in) to its stream. */
  async function appendChangesetEvent(
    repo: string,
    type: string,
    data: Record<string, unknown>,
  ): Promise<string> {
    const repository = sim.repo(repo);
    const id = changesetId(CAMPAIGN, repository, BRANCH);
    await store.append(
      changesetStream(id),
      [
        {
          type,
          data: { changesetId: id, campaign: CAMPAIGN, repository, headBranch: BRANCH, ...data },
        },
      ],
      {
        expected: 'any',
        metadata: {
          correlation_id: randomUUID(),
          causation_id: null,
          actor: 'test',
          source: 'test',
        },
      },
    );
    return id;
  }

  /** Appends ChangesetPublished as the reconciler would, and waits for the gateway to track it. */
  async function track(
    repo: string,
    pr: { number: number; node_id: string; head: { sha: string } },
  ) {
    const repository = sim.repo(repo);
    const id = await appendAsReconciler(repo, 'ChangesetPublished', {
      number: pr.number,
      url: `${sim.sim.url}/acme/${repo}/pull/${pr.number}`,
      nodeId: pr.node_id,
      draft: false,
      baseRef: 'main',
      headRefOid: pr.head.sha,
      title: 'Hello World',
      body: 'My first campaign!',
    });
    const tracked = await eventually(async () => {
      const { rowCount } = await db.pool.query(
        'SELECT 1 FROM webhook_gateway.tracked_pull_requests WHERE repository = $1 AND number = $2 AND changeset_id = $3',
        [repository, pr.number, id],
      );
      return rowCount === 1;
    });
    expect(tracked).toBe(true);
    return id;
  }

  async function idle(): Promise<void> {
    await sim.sim.control.call('webhooksIdle' as never, {} as never);
  }

  async function observations(id: string): Promise<ObservedRow[]> {
    const { rows } = await db.pool.query<ObservedRow>(
      `SELECT stream_id, type, event_id, data, metadata FROM eventstore.events
        WHERE stream_id = $1 AND type = 'ChangesetObserved' ORDER BY stream_version`,
      [changesetStream(id)],
    );
    return rows;
  }

  async function deliveries(filter: {
    event?: string;
    action?: string;
  }): Promise<DeliveryRecord[]> {
    return (await sim.sim.control.call(
      'webhookDeliveries' as never,
      filter as never,
    )) as DeliveryRecord[];
  }

  async function parkedCount(): Promise<number> {
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_gateway.parked_deliveries',
    );
    return rows[0]!.n;
  }

  async function counts(): Promise<{ events: number; deliveries: number }> {
    const events = await db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM eventstore.events',
    );
    const recorded = await db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM webhook_gateway.deliveries',
    );
    return { events: Number(events.rows[0]!.n), deliveries: Number(recorded.rows[0]!.n) };
  }

  function sign(body: string, secret: string): string {
    return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  }

  function post(body: string, headers: Record<string, string>): Promise<Response> {
    const all = new Headers({ 'content-type': 'application/json' });
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() !== 'content-length') all.set(name, value);
    }
    return fetch(hookUrl, { method: 'POST', headers: all, body });
  }

  /**
   * A recorded delivery's payload with a title never seen before: news, so the gateway records it
   * rather than taking it for an echo of what the events already say.
   */
  function withNews(template: DeliveryRecord): string {
    const payload = JSON.parse(template.request.payload) as {
      pull_request: { title: string; updated_at: string };
    };
    payload.pull_request.title = `Hello ${randomUUID()}`;
    // News is newer than anything recorded of the pull request.
    payload.pull_request.updated_at = new Date().toISOString();
    return JSON.stringify(payload);
  }

  it('records ChangesetObserved when a tracked pull request is closed, reopened and merged', async () => {
    const pr = await openPullRequest('repo-00001');
    await idle();
    // Opened before any changeset named it: held, nothing recorded.
    const [opened] = await deliveries({ event: 'pull_request', action: 'opened' });
    expect(opened?.statusCode).toBe(202);
    expect(JSON.parse(opened!.response.payload ?? '{}')).toEqual({ held: 'untracked' });
    expect(await counts()).toMatchObject({ events: 0 });

    const id = await track('repo-00001', pr);
    await sim.sim.control.call('closePullRequest', {
      owner: 'acme',
      name: 'repo-00001',
      number: pr.number,
    });
    await idle();
    await sim.sim.control.call('reopenPullRequest', {
      owner: 'acme',
      name: 'repo-00001',
      number: pr.number,
    });
    await idle();
    await sim.sim.control.call('mergePullRequest', {
      owner: 'acme',
      name: 'repo-00001',
      number: pr.number,
    });
    await idle();

    const observed = await observations(id);
    expect(observed.map((o) => [o.data['trigger'], o.data['state']])).toEqual([
      ['pull_request.closed', 'closed'],
      ['pull_request.reopened', 'open'],
      ['pull_request.closed', 'merged'],
    ]);
    const closed = (await deliveries({ event: 'pull_request', action: 'closed' }))[0]!;
    expect(closed.statusCode).toBe(200);
    expect(observed[0]).toMatchObject({
      data: {
        changesetId: id,
        campaign: CAMPAIGN,
        repository: sim.repo('repo-00001'),
        headBranch: BRANCH,
        source: 'webhook',
        deliveryId: closed.guid,
        trigger: 'pull_request.closed',
        number: pr.number,
        url: expect.stringContaining(`/acme/repo-00001/pull/${pr.number}`),
        title: 'Hello World',
        state: 'closed',
        draft: false,
        headRefOid: pr.head.sha,
        sender: expect.any(String),
      },
      metadata: {
        correlation_id: closed.guid,
        causation_id: null,
        actor: `github:${observed[0]!.data['sender'] as string}`,
        source: 'webhook-gateway',
      },
    });
    // The event id is derived from the delivery: a second gateway recording it would dedupe.
    const { rows } = await db.pool.query<{ delivery_id: string; changeset_ids: string[] }>(
      `SELECT delivery_id, changeset_ids FROM webhook_gateway.deliveries
        WHERE changeset_ids <> '{}' ORDER BY received_at`,
    );
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({ delivery_id: closed.guid, changeset_ids: [id] });
  });

  it('records reviews, check results and commit statuses of a tracked pull request', async () => {
    const pr = await openPullRequest('repo-00002');
    const id = await track('repo-00002', pr);
    await sim.sim.control.call('createUser', { login: 'reviewer' });
    await sim.sim.control.call('addMember', { org: 'acme', login: 'reviewer' });
    const ref = { owner: 'acme', name: 'repo-00002', number: pr.number, actor: 'reviewer' };

    await sim.sim.control.call('submitReview', { ...ref, event: 'REQUEST_CHANGES', body: 'no' });
    await idle();
    await sim.sim.control.call('submitReview', { ...ref, event: 'APPROVE' });
    await idle();
    const run = await sim.sim.control.call('createCheckRun', {
      owner: 'acme',
      name: 'repo-00002',
      headSha: pr.head.sha,
      checkName: 'build',
      status: 'in_progress',
    });
    await idle();
    await sim.sim.control.call('updateCheckRun', {
      owner: 'acme',
      name: 'repo-00002',
      id: run.id,
      status: 'completed',
      conclusion: 'failure',
    });
    await idle();
    await sim.sim.control.call('setStatus', {
      owner: 'acme',
      name: 'repo-00002',
      sha: pr.head.sha,
      state: 'success',
      context: 'ci/lint',
    });
    await idle();

    const observed = (await observations(id)).map((o) => o.data);
    expect(observed).toContainEqual(
      expect.objectContaining({
        trigger: 'pull_request_review.submitted',
        reviewDecision: 'CHANGES_REQUESTED',
      }),
    );
    expect(observed).toContainEqual(
      expect.objectContaining({
        trigger: 'pull_request_review.submitted',
        reviewDecision: 'APPROVED',
      }),
    );
    expect(observed).toContainEqual(
      expect.objectContaining({
        trigger: 'check_run.completed',
        checks: 'FAILURE',
        headRefOid: pr.head.sha,
      }),
    );
    expect(observed).toContainEqual(
      expect.objectContaining({ trigger: 'check_suite.completed', checks: 'FAILURE' }),
    );
    // A run in progress leaves the commit's checks pending.
    expect(observed).toContainEqual(
      expect.objectContaining({ trigger: 'check_run.created', checks: 'PENDING' }),
    );
    // A passing status does not hide the failed run: the rollup of the head commit fails.
    expect(observed).toContainEqual(
      expect.objectContaining({ trigger: 'status', checks: 'FAILURE' }),
    );
    const decisions = observed.filter((o) => o['trigger'] === 'pull_request_review.submitted');
    expect(decisions.map((o) => o['reviewDecision'])).toEqual(['CHANGES_REQUESTED', 'APPROVED']);
  });

  it('follows a push to the head branch, so that a status of the new commit is recorded', async () => {
    const repository = sim.repo('repo-00002');
    const { rows } = await db.pool.query<{ changeset_id: string; number: number }>(
      'SELECT changeset_id, number FROM webhook_gateway.tracked_pull_requests WHERE repository = $1',
      [repository],
    );
    const { changeset_id: id, number } = rows[0]!;
    const pushed = await sim.sim.control.call('pushCommit', {
      owner: 'acme',
      name: 'repo-00002',
      branch: BRANCH,
      files: { 'HELLO.md': 'Hello again\n' },
      message: 'Hello again',
    });
    await idle();
    const observed = (await observations(id)).map((o) => o.data);
    expect(observed.at(-1)).toMatchObject({
      trigger: 'pull_request.synchronize',
      number,
      headRefOid: pushed.sha,
    });
    // The observation itself moves the projection's head to the new commit.
    const moved = await eventually(async () => {
      const head = await db.pool.query<{ head_ref_oid: string }>(
        'SELECT head_ref_oid FROM webhook_gateway.tracked_pull_requests WHERE repository = $1',
        [repository],
      );
      return head.rows[0]?.head_ref_oid === pushed.sha;
    });
    expect(moved).toBe(true);

    await sim.sim.control.call('setStatus', {
      owner: 'acme',
      name: 'repo-00002',
      sha: pushed.sha,
      state: 'pending',
      context: 'ci/build',
    });
    await idle();
    expect((await observations(id)).at(-1)?.data).toMatchObject({
      trigger: 'status',
      checks: 'PENDING',
    });
  });

  it('records nothing for an edit the events already describe, and records the next real one', async () => {
    await createRepo('echo');
    const pr = await openPullRequest('echo');
    await idle();
    const id = await track('echo', pr);
    const repository = sim.repo('echo');
    // The opened delivery, held until then, is taken up: what the events already say.
    expect(await eventually(async () => (await parkedCount()) === 0)).toBe(true);
    // As the reconciler does: the title is changed on the host and ChangesetUpdated says so,
    // here recorded (and projected) before the host's webhook comes back.
    await appendAsReconciler('echo', 'ChangesetUpdated', {
      operation: 'update',
      number: pr.number,
      title: 'Hello again',
      body: '',
      baseRef: 'main',
    });
    await eventually(async () => {
      const { rows } = await db.pool.query<{ title: string }>(
        'SELECT title FROM webhook_gateway.tracked_pull_requests WHERE repository = $1 AND number = $2',
        [repository, pr.number],
      );
      return rows[0]?.title === 'Hello again';
    });
    await sim.host.updateChangeset({ repo: repository, number: pr.number, title: 'Hello again' });
    await idle();
    const [echo] = await deliveries({ event: 'pull_request', action: 'edited' });
    expect(echo?.statusCode).toBe(202);
    expect(JSON.parse(echo!.response.payload ?? '{}')).toEqual({ ignored: 'unchanged' });
    expect(await observations(id)).toEqual([]);
    // Delivered again, it is a duplicate like any other.
    const replayed = await post(echo!.request.payload, echo!.request.headers);
    expect(await replayed.json()).toEqual({ duplicate: true });

    // A person renames it: news, recorded.
    await sim.host.updateChangeset({ repo: repository, number: pr.number, title: 'Renamed' });
    await idle();
    const observed = await observations(id);
    expect(observed.map((o) => [o.data['trigger'], o.data['title']])).toEqual([
      ['pull_request.edited', 'Renamed'],
    ]);
  });

  it('records a redelivered or replayed delivery once and answers it as a duplicate', async () => {
    const recorded = (await deliveries({ event: 'pull_request', action: 'reopened' }))[0]!;
    expect(recorded.statusCode).toBe(200);
    const before = await counts();

    const redelivered = (await sim.sim.control.call(
      'redeliverWebhook' as never,
      {
        deliveryId: recorded.id,
      } as never,
    )) as DeliveryRecord;
    expect(redelivered.guid).toBe(recorded.guid);
    expect(redelivered.statusCode).toBe(200);
    expect(JSON.parse(redelivered.response.payload ?? '{}')).toEqual({ duplicate: true });

    const replayed = await post(recorded.request.payload, recorded.request.headers);
    expect(replayed.status).toBe(200);
    expect(await replayed.json()).toEqual({ duplicate: true });

    expect(await counts()).toEqual(before);
    const { rows } = await db.pool.query(
      `SELECT 1 FROM eventstore.events WHERE metadata->>'correlation_id' = $1`,
      [recorded.guid],
    );
    expect(rows).toHaveLength(1);
  });

  it('records a delivery arriving several times at once exactly once', async () => {
    const template = (await deliveries({ event: 'pull_request', action: 'reopened' }))[0]!;
    const body = withNews(template);
    const headers = {
      ...template.request.headers,
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': sign(body, sim.webhookSecret),
    };
    const before = await counts();
    const answers = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const response = await post(body, headers);
        return { status: response.status, body: (await response.json()) as unknown };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.filter((a) => JSON.stringify(a.body) === '{"duplicate":true}')).toHaveLength(4);
    expect(await counts()).toEqual({
      events: before.events + 1,
      deliveries: before.deliveries + 1,
    });
  });

  it('refuses a forged or unsigned delivery with 401 and records nothing, but records it signed', async () => {
    const template = (await deliveries({ event: 'pull_request', action: 'reopened' }))[0]!;
    const deliveryId = randomUUID();
    const body = withNews(template);
    const headers: Record<string, string> = {
      ...template.request.headers,
      'X-GitHub-Delivery': deliveryId,
    };
    const before = await counts();

    const forged = await post(body, {
      ...headers,
      'X-Hub-Signature-256': sign(body, 'not-the-secret'),
    });
    expect(forged.status).toBe(401);
    const tampered = await post(body.replace('"reopened"', '"closed"'), headers);
    expect(tampered.status).toBe(401);
    const unsigned: Record<string, string> = { ...headers };
    delete unsigned['X-Hub-Signature-256'];
    delete unsigned['X-Hub-Signature'];
    const missing = await post(body, unsigned);
    expect(missing.status).toBe(401);

    expect(await counts()).toEqual(before);
    const { rows } = await db.pool.query(
      `SELECT 1 FROM eventstore.events WHERE metadata->>'correlation_id' = $1
       UNION ALL SELECT 1 FROM webhook_gateway.deliveries WHERE delivery_id = $1`,
      [deliveryId],
    );
    expect(rows).toEqual([]);

    // The same delivery, signed with the configured secret, is recorded.
    const signed = await post(body, {
      ...headers,
      'X-Hub-Signature-256': sign(body, sim.webhookSecret),
    });
    expect(signed.status).toBe(200);
    expect(await counts()).toEqual({
      events: before.events + 1,
      deliveries: before.deliveries + 1,
    });
  });

  it('answers 503 and records nothing when the database fails, so that GitHub delivers again', async () => {
    const template = (await deliveries({ event: 'pull_request', action: 'reopened' }))[0]!;
    const body = withNews(template);
    const headers = {
      ...template.request.headers,
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': sign(body, sim.webhookSecret),
    };
    const before = await counts();
    await db.pool.query('ALTER TABLE webhook_gateway.deliveries RENAME TO deliveries_away');
    let failed: Response;
    try {
      failed = await post(body, headers);
    } finally {
      await db.pool.query('ALTER TABLE webhook_gateway.deliveries_away RENAME TO deliveries');
    }
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('10');
    expect(await counts()).toEqual(before);

    const again = await post(body, headers);
    expect(again.status).toBe(200);
    expect(await counts()).toEqual({
      events: before.events + 1,
      deliveries: before.deliveries + 1,
    });
  });

  it('refuses with 422 an observation that would put a secret into the store, and records nothing', async () => {
    const template = (await deliveries({ event: 'pull_request', action: 'reopened' }))[0]!;
    const payload = JSON.parse(template.request.payload) as {
      pull_request: { title: string; updated_at: string };
    };
    payload.pull_request.title = `leak ${sim.token}`;
    payload.pull_request.updated_at = new Date().toISOString();
    const body = JSON.stringify(payload);
    const before = await counts();
    const response = await post(body, {
      ...template.request.headers,
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': sign(body, sim.webhookSecret),
    });
    expect(response.status).toBe(422);
    expect(await counts()).toEqual(before);
  });

  it('stops following a pull request whose changeset was detached: its deliveries are held as untracked', async () => {
    await createRepo('detached');
    const pr = await openPullRequest('detached');
    const id = await track('detached', pr);
    await appendAsReconciler('detached', 'ChangesetReconciled', { operations: ['detach'] });
    const untracked = await eventually(async () => !(await isTracked(id)));
    // Closed only once the gateway no longer tracks it (else the close is rightly recorded).
    expect(untracked).toBe(true);
    await sim.sim.control.call('closePullRequest', {
      owner: 'acme',
      name: 'detached',
      number: pr.number,
    });
    await idle();
    const closed = (await deliveries({ event: 'pull_request', action: 'closed' })).filter(
      (d) => JSON.parse(d.request.payload).repository.name === 'detached',
    );
    expect(closed.map((d) => JSON.parse(d.response.payload ?? '{}'))).toEqual([
      { held: 'untracked' },
    ]);
    // The close, answered as untracked, was not recorded (the opening may have been, once the
    // changeset named the pull request and before it was detached).
    expect((await observations(id)).map((o) => o.data['trigger'])).not.toContain(
      'pull_request.closed',
    );
  });

  it('does not track a detached pull request again for a webhook observation recorded as the detach came', async () => {
    await createRepo('raced');
    const pr = await openPullRequest('raced');
    const id = await track('raced', pr);
    await appendAsReconciler('raced', 'ChangesetReconciled', { operations: ['detach'] });
    expect(await eventually(async () => !(await isTracked(id)))).toBe(true);
    // A delivery recorded while the gateway still tracked it reaches the log after the detach.
    await appendChangesetEvent('raced', 'ChangesetObserved', {
      source: 'webhook',
      deliveryId: randomUUID(),
      trigger: 'pull_request.edited',
      number: pr.number,
      title: 'Edited by hand',
    });
    // The positive signal: a pull request tracked after it is in the table, so the projection
    // has handled the observation (one stream of events, in order).
    await createRepo('raced-after');
    await track('raced-after', await openPullRequest('raced-after'));
    expect(await isTracked(id)).toBe(false);
  });

  it('holds deliveries about untracked pull requests, accepts unknown events with 202, and records nothing', async () => {
    const before = await counts();
    const pr = await openPullRequest('repo-00003');
    await sim.sim.control.call('closePullRequest', {
      owner: 'acme',
      name: 'repo-00003',
      number: pr.number,
    });
    await idle();
    const closed = (await deliveries({ event: 'pull_request', action: 'closed' })).filter(
      (d) => JSON.parse(d.request.payload).repository.name === 'repo-00003',
    );
    expect(closed.map((d) => d.statusCode)).toEqual([202]);
    expect(JSON.parse(closed[0]!.response.payload ?? '{}')).toEqual({ held: 'untracked' });

    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const ping = await post(body, {
      'X-GitHub-Event': 'ping',
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': sign(body, sim.webhookSecret),
    });
    expect(ping.status).toBe(202);
    expect((await counts()).events).toBe(before.events);
  });

  it(`refuses a body over ${MAX_WEBHOOK_BYTES} bytes with 413, and form-encoded bodies with 415`, async () => {
    const before = await counts();
    const body = JSON.stringify({ padding: 'x'.repeat(MAX_WEBHOOK_BYTES) });
    const response = await post(body, {
      'X-GitHub-Event': 'pull_request',
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': sign(body, sim.webhookSecret),
    });
    expect(response.status).toBe(413);
    expect(await counts()).toEqual(before);
    const form = `payload=${encodeURIComponent('{}')}`;
    const formResponse = await post(form, {
      'content-type': 'application/x-www-form-urlencoded',
      'X-GitHub-Event': 'pull_request',
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': sign(form, sim.webhookSecret),
    });
    expect(formResponse.status).toBe(415);
    // A body just under the limit still reaches the endpoint.
    const small = JSON.stringify({ padding: 'x'.repeat(MAX_WEBHOOK_BYTES - 100) });
    const accepted = await post(small, {
      'X-GitHub-Event': 'pull_request',
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': sign(small, sim.webhookSecret),
    });
    expect(accepted.status).toBe(202);
  });
});
