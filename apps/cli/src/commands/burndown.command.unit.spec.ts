import { describe, expect, it } from '@jest/globals';
import { runCaptured as run } from '../test-support/run-captured.js';

describe('campaign burndown command line', () => {
  it.each([
    [['burndown'], 'campaign: burndown needs the campaign name'],
    [['burndown', 'a', 'b'], 'campaign: unexpected argument "b" for burndown'],
    [
      ['burndown', 'a', '--interval', '1h', '--interval', '2h'],
      'campaign: --interval is given twice',
    ],
    [
      ['burndown', 'a', '--interval', 'hourly'],
      'campaign: --interval needs a duration such as 30s, 5m or 1h30m (got "hourly")',
    ],
    [
      ['burndown', 'a', '--interval', '1h', '--every-change'],
      'campaign: --interval and --every-change contradict: give one of them',
    ],
    [
      ['burndown', 'a', '--until', 'yesterday'],
      'campaign: --until needs an ISO 8601 timestamp such as 2026-01-31 or 2026-01-31T12:00:00Z (got "yesterday")',
    ],
    [['burndown', 'a', '-o', 'wide'], 'campaign: -o, --output wide: it is one of json, yaml'],
  ])('refuses %j with exit code 2 before touching the database', async (argv, line) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(line);
    expect(r.stderr.split('\n')[1]).toMatch(/^Usage: campaign burndown NAME/);
  });
});
