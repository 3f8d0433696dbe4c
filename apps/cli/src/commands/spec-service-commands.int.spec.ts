import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  apiSubject,
  MAX_PAGE_ROWS,
  type ApiReply,
  type ApplyResult,
  type CampaignStatus,
  type ChangesetsPage,
  type ListResult,
  type PreviewAction,
  type PreviewPart,
} from '@campaigns/contracts';
import { parse as parseYaml } from 'yaml';
import { uniqueTopology } from '@campaigns/events/testing';
import { runCli } from '../cli.js';
import type { CliIo } from '../command.js';
import {
  cliEnvFor,
  startFakeSpecService,
  type FakeSetup,
  type FakeSpecService,
} from '../test-support/fake-spec-service.js';
import { sampleStatus, summaryOf } from '../test-support/sample-status.js';
import { CapturedTerminal, terminalScreen } from '../test-support/terminal-screen.js';

const summary = summaryOf(sampleStatus);

const applied: ApplyResult = {
  campaign: 'hello-world',
  applyId: sampleStatus.applyId,
  specHash: 'a'.repeat(64),
  unchanged: false,
  warnings: ['spec.yaml:3:1: warning: description is empty'],
};

const TOKEN = `cmp_${'t'.repeat(43)}`;

describe('campaign apply, preview, status and list against spec-service over NATS', () => {
  let setup: FakeSetup;
  let fake: FakeSpecService;
  let dir: string;
  let specFile: string;
  const topology = uniqueTopology();
  const env = { ...cliEnvFor(topology), CAMPAIGN_TOKEN: TOKEN };

  async function run(
    argv: string[],
    extra: Record<string, string> = {},
    terminal?: CapturedTerminal,
  ) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: { ...env, ...extra },
      stderrIsTTY: terminal !== undefined,
      stderrTerminal: terminal,
    });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    setup = await startFakeSpecService(topology, 'campaign-cli-');
    ({ fake, dir, specFile } = setup);
  });

  afterAll(async () => {
    await setup.stop();
  });

  beforeEach(() => {
    fake.requests.length = 0;
    fake.authorizations.length = 0;
    fake.handlers.clear();
  });

  it('apply sends the file name and its text with the access token, and prints what was applied', async () => {
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
        },
      },
    ]);
    expect(fake.authorizations).toEqual([`Bearer ${TOKEN}`]);

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
        ...summary,
        applyId: '00000000-0000-4000-8000-000000000000',
        phase: 'complete',
      },
      {
        ok: true,
        ...summary,
        phase: 'executing',
        counts: { ...summary.counts, executed: 1 },
      },
      {
        ok: true,
        ...summary,
        phase: 'executing',
        counts: { ...summary.counts, executed: 1 },
      },
      { ok: true, ...summary, phase: 'reconciling' },
      { ok: true, ...summary, phase: 'complete' },
    ];
    fake.handlers.set('get', () => replies.shift() ?? { ok: true, ...summary, phase: 'complete' });
    fake.servePages(sampleStatus);

    const r = await run(['apply', '-f', specFile, '--wait']);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n')).toEqual([
      'hello-world: waiting for spec-service',
      'hello-world: executing — 3 workspaces: 1 executed, 1 failed; 2 changesets: 1 pending, 1 open; 1 errored',
      'hello-world: reconciling — 3 workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open; 1 errored',
      'hello-world: complete — 3 workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open; 1 errored',
      '',
    ]);
    expect(r.stdout).toContain('Campaign hello-world: complete\n');
    expect(r.stdout).toContain('REPOSITORY           BRANCH       STATE    DRAFT  CHECKS');
    expect(fake.requests.filter((q) => q.verb === 'get')).toHaveLength(6);
    expect(fake.requests.find((q) => q.verb === 'get')?.body).toEqual({ campaign: 'hello-world' });
    // Only the summary while waiting; the rows once, at the end: the failed executions for the table.
    const verbs = fake.requests.map((q) => q.verb).filter((v) => v !== 'apply');
    expect(verbs.slice(0, 6)).toEqual(Array(6).fill('get'));
    expect(verbs.slice(6).every((v) => v === 'changesets' || v === 'executions')).toBe(true);
    expect(fake.requests.filter((q) => q.verb === 'changesets')).toHaveLength(2);
    expect(fake.requests.find((q) => q.verb === 'executions')?.body).toEqual({
      campaign: 'hello-world',
      applyId: sampleStatus.applyId,
      filter: 'failed',
      after: null,
    });
  });

  it('apply --wait exits 3 when the campaign needs attention, redrawing its progress in place on a terminal', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied, warnings: [] }));
    const replies: ApiReply<CampaignStatus>[] = [
      { ok: true, ...summary, phase: 'executing' },
      { ok: true, ...summary, phase: 'needs-attention' },
    ];
    fake.handlers.set('get', () => replies.shift()!);
    fake.servePages(sampleStatus);

    const terminal = new CapturedTerminal(80);
    const r = await run(['apply', '-f', specFile, '--wait'], {}, terminal);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    // Only the last frame is left on the screen, no line of it wider than the terminal.
    const screen = terminalScreen(terminal.output, 80);
    expect(screen.wrapped).toBe(false);
    expect(screen.lines.map(stripVTControlCharacters)).toEqual([
      expect.stringMatching(/^✖ hello-world: needs-attention · \d+s$/),
      // The counts take 80 columns: packed onto a second line rather than wrapped.
      '  3 workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open',
      '  1 errored',
    ]);
    expect(r.stdout).toContain('repository is archived (terminal)');
  });

  it('status --wait on a terminal says when the next scheduled changeset is due, asking for it once, not every poll', async () => {
    const interrupt = new AbortController();
    const scheduled: CampaignStatus = {
      ...summary,
      phase: 'reconciling',
      counts: {
        ...summary.counts,
        errored: 0,
        states: { ...summary.counts.states, pending: 0, open: 0, scheduled: 2 },
      },
    };
    let getsAfterSlot = -1;
    fake.handlers.set('get', () => {
      // Ctrl-C after a few more polls once the slot has been asked for.
      if (getsAfterSlot >= 0 && ++getsAfterSlot === 3) interrupt.abort();
      return { ok: true, ...scheduled };
    });
    fake.handlers.set('changesets', () => {
      getsAfterSlot = 0;
      const row = (scheduledFor: string) => ({
        ...sampleStatus.changesets[0]!,
        state: 'scheduled' as const,
        url: null,
        scheduledFor,
      });
      const page: ApiReply<ChangesetsPage> = {
        ok: true,
        changesets: [row('2026-12-06T15:00:00.000Z'), row('2026-12-06T09:30:00.000Z')],
        next: null,
      };
      return page;
    });
    const terminal = new CapturedTerminal(80);
    const r = await runWith(['status', 'hello-world', '--wait'], {
      interrupt: interrupt.signal,
      stderrIsTTY: true,
      stderrTerminal: terminal,
    });
    expect(r.code).toBe(130);
    expect(terminalScreen(terminal.output, 80).lines.map(stripVTControlCharacters)).toEqual([
      expect.stringMatching(/^■ hello-world: reconciling · \d+s$/),
      '  3 workspaces: 3 executed, 1 failed; 2 changesets: 2 scheduled',
      '  waiting on: 2 changesets scheduled, the next at 2026-12-06 09:30 UTC',
    ]);
    const asked = fake.requests.filter((q) => q.verb === 'changesets').map((q) => q.body);
    expect(asked).toEqual([
      { campaign: 'hello-world', match: { state: 'scheduled' }, limit: MAX_PAGE_ROWS },
    ]);
  });

  it('apply --wait --json prints the application and the final status as one JSON document', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied }));
    fake.handlers.set('get', () => ({ ok: true, ...summary, phase: 'complete' }));
    fake.servePages(sampleStatus);
    const r = await run(['apply', '-f', specFile, '--wait', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      apply: applied,
      status: { ...sampleStatus, phase: 'complete' },
    });
  });

  it('preview prints a table of repositories, actions and reasons', async () => {
    const parts: ApiReply<PreviewPart>[] = [
      {
        ok: true,
        head: { campaign: 'hello-world', rowCount: 2, problems: [], warnings: [] },
      },
      {
        ok: true,
        rows: [
          {
            repository: 'github.com/acme/api',
            headBranch: null,
            action: 'create',
            reasons: ['new'],
          },
        ],
      },
      {
        ok: true,
        rows: [
          {
            repository: 'github.com/acme/web',
            headBranch: null,
            action: 'create',
            reasons: ['new'],
          },
        ],
      },
    ];
    fake.handlers.set('preview', () => parts);
    const r = await run(['preview', '-f', specFile]);
    expect(r).toEqual({
      code: 0,
      stdout:
        'Campaign hello-world: 2 create\nREPOSITORY           ACTION  REASONS\ngithub.com/acme/api  create  new\ngithub.com/acme/web  create  new\n',
      stderr: '',
    });
    expect(fake.requests[0]).toEqual({
      verb: 'preview',
      body: { fileName: specFile, specText: expect.stringContaining('hello-world') },
    });

    // --diff asks for the diffs.
    fake.requests.length = 0;
    expect((await run(['preview', '-f', specFile, '--diff'])).code).toBe(0);
    expect(fake.requests[0]!.body).toMatchObject({ diff: true });
  });

  it('preview says so when the answer is cut short, rather than printing part of it', async () => {
    fake.endStreams = false;
    try {
      fake.handlers.set('preview', () => [
        { ok: true, head: { campaign: 'hello-world', rowCount: 1, problems: [], warnings: [] } },
      ]);
      const r = await run(['preview', '-f', specFile], { CAMPAIGN_REQUEST_TIMEOUT_MS: '300' });
      expect(fake.requests.map((q) => q.verb)).toEqual(['preview']);
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr: `campaign: spec-service's answer on ${apiSubject(topology, 'preview')} was cut short: its end did not arrive within 300 ms (set CAMPAIGN_REQUEST_TIMEOUT_MS)\n`,
      });
    } finally {
      fake.endStreams = true;
    }
  });

  it('takes no answer in the clear, but a refusal in the clear is shown as spec-service sent it', async () => {
    fake.sealReplies = false;
    try {
      fake.handlers.set('get', () => ({ ok: true, ...summary }));
      const clear = await run(['status', 'hello-world']);
      expect(clear).toEqual({
        code: 1,
        stdout: '',
        stderr: `campaign: spec-service answered ${apiSubject(topology, 'get')} unsealed, readable by every holder of the NATS user; is it older than this CLI?\n`,
      });
      fake.handlers.set('get', () => ({
        ok: false,
        error: { code: 'not-found', message: 'no campaign named "hello-world"' },
      }));
      expect(await run(['status', 'hello-world'])).toEqual({
        code: 1,
        stdout: '',
        stderr: 'campaign status: no campaign named "hello-world"\n',
      });
    } finally {
      fake.sealReplies = true;
    }
  });

  it('status reports a page it could not read, e.g. of a campaign gone meanwhile', async () => {
    fake.handlers.set('get', () => ({ ok: true, ...summary }));
    fake.handlers.set('changesets', () => ({
      ok: false,
      error: { code: 'not-found', message: 'no campaign named "hello-world"' },
    }));
    fake.handlers.set('executions', () => ({
      ok: true,
      applyId: summary.applyId,
      executions: [],
      next: null,
    }));
    const r = await run(['status', 'hello-world']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'campaign status: no campaign named "hello-world"\n',
    });
  });

  it('status prints the status table, or says the campaign does not exist', async () => {
    fake.handlers.set('get', (q) =>
      q['campaign'] === 'hello-world'
        ? { ok: true, ...summary }
        : {
            ok: false,
            error: { code: 'not-found', message: `no campaign ${String(q['campaign'])}` },
          },
    );
    fake.servePages(sampleStatus);
    const r = await run(['status', 'hello-world']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Campaign hello-world: needs-attention\n');
    expect(r.stdout).toContain(
      'github.com/acme/web  main    frontend  step 1 exited with 2  npm ERR! missing script: lint',
    );

    const json = await run(['status', 'hello-world', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(sampleStatus);

    const missing = await run(['status', 'nope']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'campaign status: no campaign nope\n' });
    expect((await run(['status'])).code).toBe(2);
  });

  it('list prints the campaigns', async () => {
    const campaign = (name: string) => ({
      campaign: name,
      appliedAt: '2026-01-01T00:00:00.000Z',
      actor: 'alice',
      phase: 'complete' as const,
      changesets: 2,
      open: 1,
      merged: 1,
    });
    fake.handlers.set('list', (q): ApiReply<ListResult> =>
      q['after'] === null
        ? { ok: true, campaigns: [campaign('hello-world')], next: 'second-page' }
        : { ok: true, campaigns: [campaign('hello-world-2')], next: null },
    );
    const r = await run(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CAMPAIGN {7}PHASE {5}CHANGESETS/);
    expect(r.stdout).toContain('hello-world    complete  2           1     1');
    expect(r.stdout).toContain('hello-world-2  complete  2           1     1');
    expect(fake.requests.map((q) => q.body)).toEqual([{ after: null }, { after: 'second-page' }]);
    expect(JSON.parse((await run(['list', '--json'])).stdout)).toMatchObject({
      campaigns: [{ campaign: 'hello-world' }, { campaign: 'hello-world-2' }],
    });
  });

  it('refuses a reply that breaks the API contract, naming the field, and exits 1', async () => {
    // A spec-service of another version: the phase it sends is not one this CLI knows.
    fake.handlers.set('get', () => ({ ok: true, ...summary, phase: 'paused' }) as never);
    const r = await run(['status', 'hello-world']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `campaign: spec-service answered ${apiSubject(topology, 'get')} with a reply that does not match the API: "phase": Invalid option: expected one of "executing"|"reconciling"|"complete"|"closed"|"needs-attention"\n`,
    );
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
    // A token or password in NATS_URL is never printed.
    for (const [secretUrl, shown] of [
      [`nats://s3cr3t-token@127.0.0.1:${port}`, `nats://***@127.0.0.1:${port}`],
      [`nats://app:s3cr3t-token@127.0.0.1:${port}`, `nats://app:***@127.0.0.1:${port}`],
    ]) {
      const r = await run(['list'], { NATS_URL: secretUrl! });
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr: `campaign: cannot reach NATS at ${shown} — is it running? (set NATS_URL)\n`,
      });
    }
  });

  /** Runs one command line with more of the process's side: stdin, a terminal, Ctrl-C. */
  async function runWith(argv: string[], io: Partial<CliIo>, extra: Record<string, string> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: { ...env, ...extra },
      ...io,
    });
    return { code, stdout, stderr };
  }

  it('apply -f - sends the spec read from stdin as <stdin>', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied, warnings: [] }));
    const text = 'name: hello-world\non:\n  - repository: github.com/acme/web\n';
    const r = await runWith(['apply', '-f', '-'], { stdin: Readable.from([Buffer.from(text)]) });
    expect(r).toEqual({
      code: 0,
      stdout: `Applied campaign hello-world (apply ${applied.applyId})\n`,
      stderr: '',
    });
    expect(fake.requests).toEqual([
      { verb: 'apply', body: { fileName: '<stdin>', specText: text } },
    ]);
  });

  it('status, list, preview and apply print the same data as YAML with -o yaml as with --json', async () => {
    fake.handlers.set('get', () => ({ ok: true, ...summary }));
    fake.servePages(sampleStatus);
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
      next: null,
    }));
    fake.handlers.set('preview', () => [
      { ok: true, head: { campaign: 'hello-world', rowCount: 1, problems: [], warnings: [] } },
      {
        ok: true,
        rows: [
          {
            repository: 'github.com/acme/api',
            headBranch: null,
            action: 'create',
            reasons: ['new'],
          },
        ],
      },
    ]);
    fake.handlers.set('apply', () => ({ ok: true, ...applied }));
    for (const argv of [
      ['status', 'hello-world'],
      ['list'],
      ['preview', '-f', specFile],
      ['apply', '-f', specFile],
    ]) {
      const json = await run([...argv, '--json']);
      const yaml = await run([...argv, '-o', 'yaml']);
      expect(json.code).toBe(0);
      expect(yaml.code).toBe(0);
      expect(yaml.stdout.trimStart().startsWith('{')).toBe(false);
      expect(parseYaml(yaml.stdout)).toEqual(JSON.parse(json.stdout));
      expect(await run([...argv, '-o', 'json'])).toEqual(json);
    }
  });

  it('an error from spec-service is printed as YAML too with -o yaml', async () => {
    fake.handlers.set('get', () => ({
      ok: false,
      error: { code: 'not-found', message: 'no campaign nope' },
    }));
    const r = await run(['status', 'nope', '-o', 'yaml']);
    expect(r.code).toBe(1);
    expect(parseYaml(r.stdout)).toEqual({
      ok: false,
      error: { code: 'not-found', message: 'no campaign nope' },
    });
    expect(r.stderr).toBe('campaign status: no campaign nope\n');
  });

  it('status -o wide reads every execution and shows each with its state, and whether each changeset converged', async () => {
    fake.handlers.set('get', () => ({ ok: true, ...summary }));
    fake.servePages(sampleStatus);
    const r = await run(['status', 'hello-world', '-o', 'wide']);
    expect(r.code).toBe(0);
    expect(fake.requests.find((q) => q.verb === 'executions')?.body).toMatchObject({
      filter: 'all',
    });
    // The changesets with their diffs' lines counted (what the DIFF column shows).
    expect(fake.requests.find((q) => q.verb === 'changesets')?.body).toMatchObject({
      diffstat: true,
    });
    expect(r.stdout).toMatch(
      /^REPOSITORY +BRANCH +BASE +STATE +DRAFT +CHECKS +REVIEW +PR URL +TITLE +DIFF +CONVERGED +UPDATED +LAST ERROR$/m,
    );
    expect(r.stdout).toContain('\nExecutions:\n');
    expect(r.stdout).toMatch(/^github\.com\/acme\/api +- +- +succeeded/m);
  });

  it('colours states on a terminal only, and never with NO_COLOR', async () => {
    fake.handlers.set('get', () => ({ ok: true, ...summary }));
    fake.servePages(sampleStatus);
    const terminal = await runWith(['status', 'hello-world'], { stdoutIsTTY: true });
    expect(terminal.stdout).toContain('Campaign hello-world: \x1b[31mneeds-attention\x1b[39m\n');
    expect(terminal.stdout).toContain('\x1b[32mopen\x1b[39m');
    const piped = await runWith(['status', 'hello-world'], { stdoutIsTTY: false });
    expect(piped.stdout).not.toContain('\x1b[');
    expect(stripVTControlCharacters(terminal.stdout)).toBe(piped.stdout);
    const noColor = await runWith(
      ['status', 'hello-world'],
      { stdoutIsTTY: true },
      { NO_COLOR: '1' },
    );
    expect(noColor.stdout).toBe(piped.stdout);
  });

  it('status --wait follows the current application until it completes', async () => {
    const replies: ApiReply<CampaignStatus>[] = [
      { ok: true, ...summary, phase: 'executing' },
      { ok: true, ...summary, phase: 'reconciling' },
      { ok: true, ...summary, phase: 'complete' },
    ];
    fake.handlers.set('get', () => replies.shift() ?? { ok: true, ...summary, phase: 'complete' });
    fake.servePages(sampleStatus);
    const r = await run(['status', 'hello-world', '--wait']);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n')).toEqual([
      'hello-world: reconciling — 3 workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open; 1 errored',
      'hello-world: complete — 3 workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open; 1 errored',
      '',
    ]);
    expect(r.stdout).toContain('Campaign hello-world: complete\n');
  });

  it('apply --wait --timeout stops waiting, says the apply goes on and how to follow it, and exits 1', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied, warnings: [] }));
    fake.handlers.set('get', () => ({ ok: true, ...summary, phase: 'executing' }));
    const r = await run(['apply', '-f', specFile, '--wait', '--timeout', '300ms']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`Applied campaign hello-world (apply ${applied.applyId})\n`);
    expect(r.stderr.split('\n').slice(-2)).toEqual([
      'campaign: hello-world: not complete after 300ms; the apply continues on the server. Follow it with: campaign status hello-world --wait',
      '',
    ]);
  });

  it('apply --wait on Ctrl-C says the apply goes on and how to follow it, and exits 130', async () => {
    fake.handlers.set('apply', () => ({ ok: true, ...applied, warnings: [] }));
    const interrupt = new AbortController();
    const terminal = new CapturedTerminal(80);
    fake.handlers.set('get', () => {
      // Ctrl-C once the CLI is following the apply and shows its status. (Not "at the second
      // get": a get of the test before, in flight when it ended, may still arrive here.)
      if (terminal.output.includes('executing')) interrupt.abort();
      return { ok: true, ...summary, phase: 'executing' };
    });
    const r = await runWith(['apply', '-f', specFile, '--wait'], {
      interrupt: interrupt.signal,
      stderrIsTTY: true,
      stderrTerminal: terminal,
    });
    expect(r.code).toBe(130);
    // The region is finished, marked as stopped, before the line saying how to follow on.
    expect(terminalScreen(terminal.output, 80).lines.map(stripVTControlCharacters)).toEqual([
      expect.stringMatching(/^■ hello-world: executing · \d+s$/),
      '  3 workspaces: 3 executed, 1 failed; 2 changesets: 1 pending, 1 open',
      '  1 errored',
      '  waiting on: 1 changeset to publish, 1 errored changeset being retried',
    ]);
    expect(r.stderr).toBe(
      'campaign: hello-world: stopped waiting; the apply continues on the server. Follow it with: campaign status hello-world --wait\n',
    );
    expect(fake.requests.filter((q) => q.verb === 'changesets')).toEqual([]);
  });

  it('repos lists the repositories the spec matches from a preview, and those no longer matched, recording nothing', async () => {
    const row = (repository: string, headBranch: string | null, action: PreviewAction) => ({
      repository,
      headBranch,
      action,
      reasons: ['why'],
    });
    fake.handlers.set('preview', () => [
      {
        ok: true,
        head: {
          campaign: 'hello-world',
          rowCount: 5,
          problems: [{ entry: 'on[1]', message: 'no repository matches github.com/acme/gone' }],
          warnings: [],
        },
      },
      {
        ok: true,
        rows: [
          row('github.com/acme/api', 'hello-world', 'update'),
          // The branch changed: the old changeset closes, one on the new branch is created.
          row('github.com/acme/cli', 'hello', 'close'),
          row('github.com/acme/cli', null, 'create'),
          row('github.com/acme/old', 'hello-world', 'close'),
          row('github.com/acme/web', null, 'create'),
        ],
      },
    ]);
    const r = await run(['repos', '-f', specFile]);
    expect(r).toEqual({
      code: 0,
      stdout:
        'Campaign hello-world: 3 repositories match\n' +
        'REPOSITORY           CHANGESETS\n' +
        'github.com/acme/api  hello-world\n' +
        'github.com/acme/cli  hello\n' +
        'github.com/acme/web  -\n' +
        '\nNo longer matched (applying closes or removes their changesets):\n' +
        '  github.com/acme/old\n' +
        '\nProblems:\n' +
        '  on[1]: no repository matches github.com/acme/gone\n',
      stderr: '',
    });
    expect(fake.requests.map((q) => q.verb)).toEqual(['preview']);
    const json = await run(['repos', '-f', specFile, '-o', 'json']);
    expect(JSON.parse(json.stdout)).toEqual({
      campaign: 'hello-world',
      repositories: [
        { repository: 'github.com/acme/api', changesets: ['hello-world'] },
        { repository: 'github.com/acme/cli', changesets: ['hello'] },
        { repository: 'github.com/acme/web', changesets: [] },
      ],
      noLongerMatched: ['github.com/acme/old'],
      problems: [{ entry: 'on[1]', message: 'no repository matches github.com/acme/gone' }],
    });
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
