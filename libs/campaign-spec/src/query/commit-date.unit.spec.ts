import { describe, expect, it } from '@jest/globals';
import { parseCommitDate } from './commit-date.js';

const now = new Date('2026-03-31T15:30:00Z');

describe('parseCommitDate', () => {
  it.each([
    ['2024-01-31', '2024-01-31T00:00:00.000Z'],
    ['2024-01-31T12:00:00Z', '2024-01-31T12:00:00.000Z'],
    ['2024-01-31 12:00', '2024-01-31T12:00:00.000Z'],
    ['2024-01-31T12:00:00+02:00', '2024-01-31T10:00:00.000Z'],
    ['january 31 2024', '2024-01-31T00:00:00.000Z'],
    ['Jan 31, 2024', '2024-01-31T00:00:00.000Z'],
    ['"3 days ago"', '2026-03-28T15:30:00.000Z'],
    ['1 week ago', '2026-03-24T15:30:00.000Z'],
    ['a month ago', '2026-03-03T15:30:00.000Z'],
    ['2 years ago', '2024-03-31T15:30:00.000Z'],
    ['12 hours ago', '2026-03-31T03:30:00.000Z'],
    ['now', '2026-03-31T15:30:00.000Z'],
    ['today', '2026-03-31T00:00:00.000Z'],
    ['yesterday', '2026-03-30T00:00:00.000Z'],
    ['last week', '2026-03-24T15:30:00.000Z'],
  ])('%s is %s', (text, expected) => {
    expect(parseCommitDate(text, now)?.toISOString()).toBe(expected);
  });

  it.each(['soon', 'last tuesday', '2024-02-30', 'smarch 3 2024', '3 fortnights ago', ''])(
    '%j is refused rather than guessed',
    (text) => {
      expect(parseCommitDate(text, now)).toBeUndefined();
    },
  );
});
