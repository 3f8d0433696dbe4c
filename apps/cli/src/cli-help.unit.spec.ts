import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { commands, runCli } from './cli.js';
import { runCaptured as run } from './test-support/run-captured.js';

/** Runs one command line in-process with `stdin` as its standard input. */
async function runWithStdin(stdin: string | Readable, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
    stdin: typeof stdin === 'string' ? Readable.from([Buffer.from(stdin)]) : stdin,
  });
  return { code, stdout, stderr };
}

describe('campaign COMMAND --help', () => {
  it.each(commands.map((c) => [c.name]))(
    '%s: usage, options, environment, examples and exit codes, the same for -h and help NAME',
    async (name) => {
      const r = await run(name, '--help');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^Usage: campaign ${name}\\b`));
      expect(r.stdout).toContain('\nOptions:\n');
      expect(r.stdout).toContain('\nExamples:\n  # ');
      expect(r.stdout).toMatch(/\nExit codes:\n {2}0 +\S/);
      expect(await run(name, '-h')).toEqual(r);
      expect(await run('help', name)).toEqual(r);
    },
  );

  it('lists every flag of apply and the environment variables it reads', async () => {
    const { stdout } = await run('apply', '--help');
    for (const flag of [
      '-f, --file <FILE>',
      '--wait',
      '--timeout <DURATION>',
      '-o, --output <FORMAT>',
      '--json',
    ])
      expect(stdout).toContain(flag);
    for (const variable of [
      'NATS_URL',
      'CAMPAIGN_TOKEN',
      'CAMPAIGN_POLL_INTERVAL_MS',
      'CAMPAIGN_REQUEST_TIMEOUT_MS',
      'NO_COLOR',
    ])
      expect(stdout).toMatch(new RegExp(`^ {2}${variable} +\\S`, 'm'));
    expect(stdout).toMatch(/^ {2}3 +with --wait: the campaign needs attention/m);
    expect(stdout).toMatch(/^ {2}130 +Ctrl-C while waiting/m);
  });

  it('names the database audit reads', async () => {
    expect((await run('help', 'audit')).stdout).toMatch(/^ {2}DATABASE_URL +\S/m);
  });

  it('prints the command list on --help and -h, exit 0', async () => {
    const r = await run('--help');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const c of commands) expect(r.stdout).toMatch(new RegExp(`^ {2}${c.name} +\\S`, 'm'));
    expect((await run('-h')).stdout).toBe(r.stdout);
  });
});

describe('campaign typo suggestions', () => {
  it('suggests the command meant', async () => {
    const r = await run('aply', '-f', 'x');
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'campaign: unknown command "aply". Did you mean "apply"? Run "campaign help" for the list of commands.\n',
    });
    expect((await run('help', 'statsu')).stderr).toContain('Did you mean "status"?');
  });

  it("suggests the option meant, with the command's usage", async () => {
    const r = await run('status', 'hello', '--jsno');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'campaign: unknown option "--jsno" for status. Did you mean "--json"?\n' +
        'Usage: campaign status NAME [--wait [--timeout DURATION]] [-o json|yaml|wide]\n',
    );
    expect((await run('apply', '-f', 'x', '--wiat')).stderr).toContain('Did you mean "--wait"?');
  });

  it('says which output formats there are', async () => {
    const r = await run('list', '-o', 'xml');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'campaign: -o, --output xml: it is one of json, yaml, wide',
    );
  });
});

describe('campaign --timeout', () => {
  it.each([
    [
      ['--wait', '--timeout', 'soon'],
      '--timeout needs a duration such as 30s, 5m or 1h30m (got "soon")',
    ],
    [
      ['--wait', '--timeout', '0s'],
      '--timeout needs a duration such as 30s, 5m or 1h30m (got "0s")',
    ],
    [['--timeout', '5m'], '--timeout needs --wait'],
  ])('refuses %j before reading the spec or reaching NATS', async (flags, message) => {
    const r = await run('apply', '-f', 'does-not-exist.yaml', ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`campaign: ${message}`);
  });
});

describe('campaign validate -o and -f -', () => {
  const dir = mkdtempSync(join(tmpdir(), 'campaign-cli-o-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const spec = 'name: hello\non:\n  - repository: github.com/acme/api\n';
  const file = join(dir, 'hello.campaign.yaml');
  writeFileSync(file, spec);

  it('prints the same result as JSON with -o json and --json, and as YAML with -o yaml', async () => {
    const json = await run('validate', '-f', file, '-o', 'json');
    expect(json.code).toBe(0);
    expect(await run('validate', '-f', file, '--json')).toEqual(json);
    const yaml = await run('validate', '-f', file, '-o', 'yaml');
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).not.toBe(json.stdout);
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
    expect(JSON.parse(json.stdout)).toMatchObject({ file, valid: true, errors: [] });
  });

  it('refuses --json with another -o', async () => {
    const r = await run('validate', '-f', file, '--json', '-o', 'yaml');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('campaign: --json contradicts -o yaml: give one of them');
  });

  it('reads the spec from stdin with -f -, naming it <stdin>', async () => {
    const ok = await runWithStdin(spec, 'validate', '-f', '-');
    expect(ok).toEqual({
      code: 0,
      stdout: '<stdin>: valid campaign spec "hello" (1 repository)\n',
      stderr: '',
    });
    const bad = await runWithStdin('name: hello\nonn: []\n', 'validate', '-f', '-');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^<stdin>:2:1: /);
  });

  it('refuses a stdin over 1 MiB, reading no further than the limit', async () => {
    // An endless stream: only a limit ends it.
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 'a'));
      },
    });
    const r = await runWithStdin(endless, 'validate', '-f', '-');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^<stdin>:1:1: the spec is more than 1048576 bytes/);
    expect(produced).toBeLessThan(2 * 1024 * 1024);
  });
});
