import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../command.js';
import { runCaptured as run } from '../test-support/run-captured.js';
import { auditRequestOf, parseTimestamp } from './audit-options.js';

describe('auditRequestOf', () => {
  it('reads the timeline with its filters', () => {
    expect(
      auditRequestOf(
        'hello',
        {
          changeset: 'github.com/acme/api@hello',
          since: '2026-01-01',
          until: '2026-01-02T12:30:00+02:00',
        },
        false,
        'json',
      ),
    ).toEqual({
      mode: 'timeline',
      campaign: 'hello',
      changeset: { repository: 'github.com/acme/api', headBranch: 'hello' },
      since: new Date('2026-01-01T00:00:00Z'),
      until: new Date('2026-01-02T10:30:00Z'),
      format: 'json',
    });
    expect(auditRequestOf('hello', {}, false, 'text')).toEqual({
      mode: 'timeline',
      campaign: 'hello',
      format: 'text',
    });
  });

  it('reads --at and --verify', () => {
    expect(auditRequestOf('hello', { at: '2026-01-02T03:04:05.678Z' }, false, 'text')).toEqual({
      mode: 'at',
      campaign: 'hello',
      at: new Date('2026-01-02T03:04:05.678Z'),
      format: 'text',
    });
    expect(auditRequestOf(undefined, {}, true, 'yaml')).toEqual({ mode: 'verify', format: 'yaml' });
  });

  it.each([
    [undefined, {}, false, 'audit needs the campaign name, or --verify'],
    ['a', { since: '2026-02-01', until: '2026-01-01' }, false, '--since is after --until'],
    ['a', { at: '2026-01-01', since: '2026-01-01' }, false, '--at cannot be combined with --since'],
    ['a', {}, true, '--verify checks the whole event log: it takes no campaign or options'],
    [undefined, { since: '2026-01-01' }, true, '--verify checks the whole event log'],
    ['a', { changeset: 'acme/api' }, false, '--changeset needs HOST/OWNER/NAME[@BRANCH]'],
  ] as const)('refuses %j %j (verify: %j)', (campaign, values, verify, message) => {
    const request = () => auditRequestOf(campaign, values, verify, 'text');
    expect(request).toThrow(UsageError);
    expect(request).toThrow(message);
  });
});

describe('campaign audit command line', () => {
  it.each([
    [['audit', 'a', 'b'], 'campaign: unexpected argument "b" for audit'],
    [['audit', 'a', '--nope'], 'campaign: unknown option "--nope" for audit.'],
    [
      ['audit', 'a', '--sinse', 'x'],
      'campaign: unknown option "--sinse" for audit. Did you mean "--since"?',
    ],
    [['audit', 'a', '-x'], 'campaign: unknown option "-x" for audit.'],
    [['audit', 'a', '--since'], 'campaign: --since needs a value'],
    [
      ['audit', 'a', '--since', '2026-01-01', '--since', '2026-01-02'],
      'campaign: --since is given twice',
    ],
    [
      ['audit', 'a', '--json', '-o', 'yaml'],
      'campaign: --json contradicts -o yaml: give one of them',
    ],
  ])('refuses %j with exit code 2 before touching the database', async (argv, line) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(line);
    expect(r.stderr).toContain('\nUsage: campaign audit NAME');
  });
});

describe('parseTimestamp', () => {
  it('reads ISO 8601 dates and times, UTC unless they say otherwise', () => {
    expect(parseTimestamp('--at', '2026-03-04')).toEqual(new Date('2026-03-04T00:00:00Z'));
    expect(parseTimestamp('--at', '2026-03-04T05:06')).toEqual(new Date('2026-03-04T05:06:00Z'));
    expect(parseTimestamp('--at', '2026-03-04 05:06:07')).toEqual(new Date('2026-03-04T05:06:07Z'));
    expect(parseTimestamp('--at', '2026-03-04T05:06:07-0130')).toEqual(
      new Date('2026-03-04T06:36:07Z'),
    );
  });

  it.each(['yesterday', '2026-02-30', '2026-13-01', '2026-01-01T25:00', '1700000000', ''])(
    'refuses %j',
    (value) => {
      expect(() => parseTimestamp('--until', value)).toThrow(
        /^--until needs an ISO 8601 timestamp/,
      );
    },
  );
});

describe('campaign audit', () => {
  it('is listed in the help', async () => {
    expect((await run('help')).stdout).toMatch(/^ {2}audit +Replay the event log/m);
  });

  it('answers a bad timestamp with exit code 2 before touching the database', async () => {
    const r = await run('audit', 'hello', '--since', 'last week');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^campaign: --since needs an ISO 8601 timestamp .*\nUsage: campaign audit NAME/,
    );
  });
});
