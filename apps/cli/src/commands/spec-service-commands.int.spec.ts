import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  apiSubject,
  type ApiReply,
  type ApiVerb,
  type ApplyResult,
  type CampaignStatus,
  type EventsTopology,
} from '@campaigns/events';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  connectTestNats,
  TEST_NATS_URL,
  uniqueTopology,
} from '../../../../libs/events/src/test-support/test-nats.js';
import { runCli } from '../cli.js';
import { sampleStatus } from '../test-support/sample-status.js';

type Handler = (request: Record<string, unknown>) => ApiReply<object> | null;

/** A stand-in for spec-service on the API subjects: canned answers, every request recorded. */
class FakeSpecService {
  readonly requests: { verb: ApiVerb; body: Record<string, unknown> }[] = [];
  readonly handlers = new Map<ApiVerb, Handler>();
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nats: NatsConnection,
    private readonly topology: EventsTopology,
  ) {}

  async start(): Promise<void> {
    for (const verb of ['apply', 'preview', 'get', 'list'] as const) {
      const subscription = this.nats.subscribe(apiSubject(this.topology, verb), {
        callback: (_error, msg) => {
          const body = msg.json<Record<string, unknown>>();
          this.requests.push({ verb, body });
          const answer = this.handlers.get(verb)?.(body);
          // null: stay silent, as a spec-service that hangs would.
          if (answer !== null && answer !== undefined) msg.respond(JSON.stringify(answer));
        },
      });
      this.subscriptions.push(subscription);
    }
    await this.nats.flush();
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}

const applied: ApplyResult = {
  campaign: 'hello-world',
  applyId: sampleStatus.applyId,
  specHash: 'a'.repeat(64),
  unchanged: false,
  warnings: ['spec.yaml:3:1: warning: description is empty'],
};

describe('campaign apply, preview, status and list against spec-service over NATS', () => {
  let nats: NatsConnection;
  let fake: FakeSpecService;
  let dir: string;
  let specFile: string;
  const topology = uniqueTopology();
  const env = {
    NATS_URL: TEST_NATS_URL,
    EVENTS_STREAM: topology.streamName,
    EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
    CAMPAIGN_ACTOR: 'alice',
    CAMPAIGN_POLL_INTERVAL_MS: '20',
  };

  async function run(argv: string[], extra: Record<string, string> = {}, tty = false) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: { ...env, ...extra },
      stderrIsTTY: tty,
    });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    nats = await connectTestNats();
    fake = new FakeSpecService(nats, topology);
    await fake.start();
    dir = mkdtempSync(join(tmpdir(), 'campaign-cli-'));
    specFile = join(dir, 'hello.campaign.yaml');
    writeFileSync(specFile, 'name: hello-world\non:\n  - repository: github.com/acme/api\n');
  });

  afterAll(async () => {
    fake.stop();
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake.requests.length = 0;
    fake.handlers.clear();
  });

  it('apply sends the file name, its text and the actor, and prints what was applied', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied }));
    const r = await run(['apply', '-f', specFile]);
    expect(r).toEqual({
      code: 0,
      stdout: `Applied campaign hello-world (apply ${applied.applyId})\n`,
      stderr: 'spec.yaml:3:1: warning: description is empty\n',
    });
    expect(fake.requests).toEqual([
      {
        verb: 'apply',
        body: {
          fileName: specFile,
          specText: 'name: hello-world\non:\n  - repository: github.com/acme/api\n',
          actor: 'alice',
        },
      },
    ]);

    const json = await run(['apply', '-f', specFile, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(applied);
  });

  it('apply prints every diagnostic of an invalid spec on stderr and exits 1', async () => {
    fake.handlers.set('apply', () => ({
      ok: false,
      error: {
        code: 'invalid-spec',
        message: 'the spec has 2 errors',
        diagnostics: [`${specFile}:1:1: name: required`, `${specFile}:4:3: steps[0].run: required`],
      },
    }));
    const r = await run(['apply', '-f', specFile]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `${specFile}:1:1: name: required\n${specFile}:4:3: steps[0].run: required\ncampaign apply: the spec has 2 errors\n`,
    });
  });

  it('apply --wait follows this application until it completes, then prints the status table', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied, warnings: [] }));
    const replies: ApiReply<CampaignStatus>[] = [
      { ok: false, error: { code: 'not-found', message: 'no campaign hello-world' } },
      // A status of the previous application: not this one's outcome, even though complete.
      {
        ok: true,
        ...sampleStatus,
        applyId: '00000000-0000-4000-8000-000000000000',
        phase: 'complete',
      },
      {
        ok: true,
        ...sampleStatus,
        phase: 'executing',
        counts: { ...sampleStatus.counts, executed: 1 },
      },
      {
        ok: true,
        ...sampleStatus,
        phase: 'executing',
        counts: { ...sampleStatus.counts, executed: 1 },
      },
      { ok: true, ...sampleStatus, phase: 'reconciling' },
      { ok: true, ...sampleStatus, phase: 'complete' },
    ];
    fake.handlers.set(
      'get',
      () => replies.shift() ?? { ok: true, ...sampleStatus, phase: 'complete' },
    );

    const r = await run(['apply', '-f', specFile, '--wait']);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n')).toEqual([
      'hello-world: waiting for spec-service',
      'hello-world: executing — executed 1/3, failed 1, published 1/2, errored 1',
      'hello-world: reconciling — executed 3/3, failed 1, published 1/2, errored 1',
      'hello-world: complete — executed 3/3, failed 1, published 1/2, errored 1',
      '',
    ]);
    expect(r.stdout).toContain('Campaign hello-world: complete\n');
    expect(r.stdout).toContain('REPOSITORY           STATE    DRAFT  CHECKS');
    expect(fake.requests.filter((q) => q.verb === 'get')).toHaveLength(6);
    expect(fake.requests.find((q) => q.verb === 'get')?.body).toEqual({ campaign: 'hello-world' });
  });

  it('apply --wait exits 3 when the campaign needs attention, rewriting one line on a terminal', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied, warnings: [] }));
    const replies: ApiReply<CampaignStatus>[] = [
      { ok: true, ...sampleStatus, phase: 'executing' },
      { ok: true, ...sampleStatus, phase: 'needs-attention' },
    ];
    fake.handlers.set('get', () => replies.shift()!);

    const r = await run(['apply', '-f', specFile, '--wait'], {}, true);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      '\r\x1b[2Khello-world: executing — executed 3/3, failed 1, published 1/2, errored 1' +
        '\r\x1b[2Khello-world: needs-attention — executed 3/3, failed 1, published 1/2, errored 1\n',
    );
    expect(r.stdout).toContain('repository is archived (terminal)');
  });

  it('apply --wait --json prints the application and the final status as one JSON document', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied }));
    fake.handlers.set('get', () => ({ ok: true, ...sampleStatus, phase: 'complete' }));
    const r = await run(['apply', '-f', specFile, '--wait', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      apply: applied,
      status: { ...sampleStatus, phase: 'complete' },
    });
  });

  it('preview prints a table of repositories, actions and reasons', async () => {
    fake.handlers.set('preview', () => ({
      ok: true,
      campaign: 'hello-world',
      rows: [
        { repository: 'github.com/acme/api', headBranch: null, action: 'create', reasons: ['new'] },
      ],
      problems: [],
      warnings: [],
    }));
    const r = await run(['preview', '-f', specFile]);
    expect(r).toEqual({
      code: 0,
      stdout:
        'Campaign hello-world: 1 changeset\nREPOSITORY           ACTION  REASONS\ngithub.com/acme/api  create  new\n',
      stderr: '',
    });
    expect(fake.requests[0]).toEqual({
      verb: 'preview',
      body: { fileName: specFile, specText: expect.stringContaining('hello-world') },
    });
  });

  it('status prints the status table, or says the campaign does not exist', async () => {
    fake.handlers.set('get', (q) =>
      q['campaign'] === 'hello-world'
        ? { ok: true, ...sampleStatus }
        : {
            ok: false,
            error: { code: 'not-found', message: `no campaign ${String(q['campaign'])}` },
          },
    );
    const r = await run(['status', 'hello-world']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Campaign hello-world: needs-attention\n');
    expect(r.stdout).toContain(
      'github.com/acme/web  frontend  step 1 exited with 2  npm ERR! missing script: lint',
    );

    const json = await run(['status', 'hello-world', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(sampleStatus);

    const missing = await run(['status', 'nope']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'campaign status: no campaign nope\n' });
    expect((await run(['status'])).code).toBe(2);
  });

  it('list prints the campaigns', async () => {
    fake.handlers.set('list', () => ({
      ok: true,
      campaigns: [
        {
          campaign: 'hello-world',
          appliedAt: '2026-01-01T00:00:00.000Z',
          actor: 'alice',
          phase: 'complete',
          changesets: 2,
          open: 1,
          merged: 1,
        },
      ],
    }));
    const r = await run(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CAMPAIGN {5}PHASE {5}CHANGESETS/);
    expect(r.stdout).toContain('hello-world  complete  2           1     1');
    expect(JSON.parse((await run(['list', '--json'])).stdout)).toMatchObject({
      campaigns: [{ campaign: 'hello-world' }],
    });
  });

  it('refuses a spec over the size limit without sending it, and an unreadable file', async () => {
    const big = join(dir, 'big.campaign.yaml');
    writeFileSync(big, `name: big\n# ${'x'.repeat(1024 * 1024)}\n`);
    const r = await run(['apply', '-f', big]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^${big}:1:1: the spec is \\d+ bytes; the limit is 1048576 bytes`),
    );
    expect(fake.requests).toEqual([]);

    const missing = await run(['preview', '-f', join(dir, 'nope.yaml')]);
    expect(missing).toEqual({
      code: 2,
      stdout: '',
      stderr: `campaign preview: cannot read ${join(dir, 'nope.yaml')}: no such file\n`,
    });
  });

  it('says NATS is unreachable in one line and exits 2', async () => {
    const port = await closedPort();
    const url = `nats://127.0.0.1:${port}`;
    for (const argv of [['list'], ['status', 'x'], ['apply', '-f', specFile]]) {
      const r = await run(argv, { NATS_URL: url });
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr: `campaign: cannot reach NATS at ${url} — is it running? (set NATS_URL)\n`,
      });
    }
  });

  it('says spec-service is not answering when nothing subscribes, or nothing replies in time', async () => {
    const other = uniqueTopology();
    const r = await run(['list'], { EVENTS_SUBJECT_PREFIX: other.subjectPrefix });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `campaign: spec-service is not answering on campaign.${other.subjectPrefix}.list — is it running?\n`,
    });

    fake.handlers.set('get', () => null);
    const started = Date.now();
    const silent = await run(['status', 'x'], { CAMPAIGN_REQUEST_TIMEOUT_MS: '300' });
    expect(silent).toEqual({
      code: 2,
      stdout: '',
      stderr: `campaign: spec-service is not answering on ${apiSubject(topology, 'get')} — is it running?\n`,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

/** A port nothing listens on: bound, read, and released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
