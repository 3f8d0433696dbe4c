import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../command.js';
import { runCaptured as run } from '../test-support/run-captured.js';
import { parseAuditArgs, parseTimestamp } from './audit-options.js';

describe('parseAuditArgs', () => {
  it('reads the timeline with its filters', () => {
    expect(
      parseAuditArgs([
        'hello',
        '--changeset',
        'github.com/acme/api@hello',
        '--since=2026-01-01',
        '--until',
        '2026-01-02T12:30:00+02:00',
        '--json',
      ]),
    ).toEqual({
      mode: 'timeline',
      campaign: 'hello',
      changeset: { repository: 'github.com/acme/api', headBranch: 'hello' },
      since: new Date('2026-01-01T00:00:00Z'),
      until: new Date('2026-01-02T10:30:00Z'),
      json: true,
    });
    expect(parseAuditArgs(['hello'])).toEqual({ mode: 'timeline', campaign: 'hello', json: false });
  });

  it('reads --at and --verify', () => {
    expect(parseAuditArgs(['hello', '--at', '2026-01-02T03:04:05.678Z'])).toEqual({
      mode: 'at',
      campaign: 'hello',
      at: new Date('2026-01-02T03:04:05.678Z'),
      json: false,
    });
    expect(parseAuditArgs(['--verify', '--json'])).toEqual({ mode: 'verify', json: true });
  });

  it.each([
    [[], 'audit needs the campaign name, or --verify'],
    [['a', 'b'], 'unexpected argument "b" for audit'],
    [['a', '--nope'], 'unknown option "--nope" for audit'],
    [['a', '-x'], 'unknown option "-x" for audit'],
    [['a', '--since'], '--since needs a value'],
    [['a', '--since', '2026-01-01', '--since', '2026-01-02'], '--since is given twice'],
    [['a', '--since', '2026-02-01', '--until', '2026-01-01'], '--since is after --until'],
    [['a', '--at', '2026-01-01', '--since', '2026-01-01'], '--at cannot be combined with --since'],
    [['--verify', 'a'], '--verify checks the whole event log: it takes no campaign or options'],
    [['a', '--changeset', 'acme/api'], '--changeset needs HOST/OWNER/NAME[@BRANCH]'],
  ])('refuses %j', (args, message) => {
    expect(() => parseAuditArgs(args)).toThrow(UsageError);
    expect(() => parseAuditArgs(args)).toThrow(message);
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
