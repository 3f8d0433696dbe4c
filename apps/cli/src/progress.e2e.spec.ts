import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ApiReply, CampaignStatus } from '@campaigns/contracts';
import { uniqueTopology } from '@campaigns/events/testing';
import {
  cliEnvFor,
  startFakeSpecService,
  type FakeSetup,
} from './test-support/fake-spec-service.js';
import { sampleStatus, summaryOf } from './test-support/sample-status.js';
import { terminalScreen } from './test-support/terminal-screen.js';

// Runs the built binary, as `npm test` builds before testing.
const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const summary = summaryOf(sampleStatus);
const counts = summary.counts;
/** An application going through its phases: executing, then publishing, then complete. */
const progression: CampaignStatus[] = [
  { ...summary, phase: 'executing', counts: { ...counts, executed: 0, failed: 0 } },
  { ...summary, phase: 'executing', counts: { ...counts, executed: 2, failed: 0 } },
  {
    ...summary,
    phase: 'reconciling',
    counts: { ...counts, errored: 0, states: { ...counts.states, pending: 2, open: 0 } },
  },
  {
    ...summary,
    phase: 'reconciling',
    counts: { ...counts, errored: 0, states: { ...counts.states, pending: 1, open: 1 } },
  },
  {
    ...summary,
    phase: 'complete',
    counts: { ...counts, errored: 0, states: { ...counts.states, pending: 0, open: 2 } },
  },
];
const FINAL_COUNTS = '3 workspaces: 3 executed, 1 failed; 2 changesets: 2 open';

describe('the progress of --wait (the binary, a stand-in spec-service over NATS)', () => {
  const topology = uniqueTopology();
  let setup: FakeSetup;
  const env = { ...cliEnvFor(topology), TERM: 'xterm-256color' };

  beforeAll(async () => {
    setup = await startFakeSpecService(topology, 'campaign-progress-');
  });

  beforeEach(() => {
    const { fake } = setup;
    const replies = [...progression];
    fake.answerApply(summary);
    // Each status once, then the last one for good.
    fake.handlers.set('get', (): ApiReply<CampaignStatus> => {
      const status = replies.length > 1 ? replies.shift()! : replies[0]!;
      return { ok: true, ...status };
    });
    fake.servePages({ ...sampleStatus, ...progression.at(-1)! });
  });

  afterAll(async () => {
    await setup.stop();
  });

  /** The CLI with stderr on a pseudo-terminal of 80 columns (script), stdout thrown away. */
  function onTerminal(args: string[], extra: Record<string, string> = {}, keyboard = false) {
    const line = [process.execPath, bin, ...args].map((a) => `'${a}'`).join(' ');
    const command = `stty cols 80 rows 24; exec ${line} >/dev/null`;
    return start('script', ['-qfec', command, '/dev/null'], { ...env, ...extra }, keyboard);
  }

  function run(command: string, args: string[], childEnv: Record<string, string>) {
    return start(command, args, childEnv).result;
  }

  /** A child with its output collected; with `keyboard`, its stdin is a pipe to type into. */
  function start(
    command: string,
    args: string[],
    childEnv: Record<string, string>,
    keyboard = false,
  ) {
    const child = spawn(command, args, {
      env: { ...process.env, ...childEnv },
      stdio: [keyboard ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const seen: { pattern: RegExp; resolve: () => void }[] = [];
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      for (const s of seen) if (s.pattern.test(stripVTControlCharacters(stdout))) s.resolve();
    });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const result = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout, stderr })),
    );
    /** Resolves once the output shows `pattern`. */
    const shows = (pattern: RegExp) =>
      new Promise<void>((resolve) => {
        seen.push({ pattern, resolve });
        if (pattern.test(stripVTControlCharacters(stdout))) resolve();
      });
    return { child, result, shows };
  }

  it.each([
    ['status', ['status', 'hello-world', '--wait']],
    ['apply', ['apply', '-f', '<spec>', '--wait']],
  ])(
    '%s --wait on an 80-column terminal redraws a region that never wraps and ends with the final counts',
    async (_name, args) => {
      const r = await onTerminal(args.map((a) => (a === '<spec>' ? setup.specFile : a))).result;
      expect(r.code).toBe(0);
      // The spinner turned while it waited...
      expect(stripVTControlCharacters(r.stdout)).toMatch(
        /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] hello-world: (executing|reconciling)/,
      );
      // ...and what is left on the screen is the last frame alone, no line wider than 80.
      const screen = terminalScreen(r.stdout, 80);
      expect(screen.wrapped).toBe(false);
      expect(screen.lines.map(stripVTControlCharacters)).toEqual([
        expect.stringMatching(/^✔ hello-world: complete · \d+s$/),
        `  ${FINAL_COUNTS}`,
      ]);
      // The phase is coloured on a terminal.
      expect(r.stdout).toContain('\x1b[32mcomplete\x1b[39m');
    },
  );

  it('honours NO_COLOR on a terminal: the region redraws, but nothing is coloured', async () => {
    const r = await onTerminal(['status', 'hello-world', '--wait'], { NO_COLOR: '1' }).result;
    expect(r.code).toBe(0);
    expect(terminalScreen(r.stdout, 80).lines[0]).toMatch(/^✔ hello-world: complete · \d+s$/);
    // Cursor movements and erasures, but no SGR (colour) sequence.
    expect(r.stdout).toContain('\x1b[');
    const sequences = r.stdout.split('\x1b[').slice(1);
    expect(sequences.filter((s) => /^[\d;]*m/.test(s))).toEqual([]);
  });

  it('on Ctrl-C at the terminal finishes the region as stopped, says how to follow on and shows the cursor again', async () => {
    const executing = progression[1]!;
    setup.fake.handlers.set('get', () => ({ ok: true, ...executing }));
    const cli = onTerminal(['status', 'hello-world', '--wait'], {}, true);
    await cli.shows(/hello-world: executing/);
    cli.child.stdin!.write('\x03');
    const r = await cli.result;
    expect(r.code).toBe(130);
    const screen = terminalScreen(r.stdout, 80).lines.map(stripVTControlCharacters);
    // The last frame, then the line (wrapped by the terminal: it is not part of the region).
    expect(screen).toEqual([
      expect.stringMatching(/^■ hello-world: executing · \d+s$/),
      '  3 workspaces: 2 executed, 0 failed; 2 changesets: 1 pending, 1 open',
      '  1 errored',
      '  waiting on: 1 execution running, 1 changeset to publish',
      '  1 errored changeset being retried',
      'campaign: hello-world: stopped waiting; the apply continues on the server. Follo',
      'w it with: campaign status hello-world --wait',
    ]);
    expect(r.stdout.lastIndexOf('\x1b[?25h')).toBeGreaterThan(r.stdout.lastIndexOf('\x1b[?25l'));
  });

  it('piped, --wait writes a plain line per change of the counts, without escape sequences', async () => {
    const r = await run(process.execPath, [bin, 'status', 'hello-world', '--wait'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('\x1b');
    expect(r.stdout).not.toContain('\x1b');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toContain(`hello-world: complete — ${FINAL_COUNTS}`);
    expect(lines.at(-1)).toBe(`hello-world: complete — ${FINAL_COUNTS}`);
    expect(r.stdout).toContain('Campaign hello-world: complete\n');
  });
});
