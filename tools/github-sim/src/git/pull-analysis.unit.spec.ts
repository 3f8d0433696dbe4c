import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { countLineChanges, lines } from './pull-analysis.js';

/** additions + deletions of a shortest edit script, by the textbook LCS table. */
function byLcs(a: string[], b: string[]): { additions: number; deletions: number } {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      t[i]![j] = a[i] === b[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
  const common = t[0]![0]!;
  return { additions: b.length - common, deletions: a.length - common };
}

describe('counting changed lines', () => {
  it('splits lines as git counts them, a last line without a newline included', () => {
    expect(lines(Buffer.from(''))).toEqual([]);
    expect(lines(Buffer.from('a\nb\n'))).toEqual(['a\n', 'b\n']);
    expect(lines(Buffer.from('a\nb'))).toEqual(['a\n', 'b']);
  });

  it('counts a changed last newline as one line removed and one added', () => {
    expect(countLineChanges(lines(Buffer.from('a\nb')), lines(Buffer.from('a\nb\n')))).toEqual({
      additions: 1,
      deletions: 1,
    });
  });

  it('finds the shortest edit script for any pair of small texts', () => {
    const text = fc.array(fc.constantFrom('a\n', 'b\n', 'c\n', 'd'), { maxLength: 40 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(countLineChanges(a, b)).toEqual(byLcs(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('gives up past its edit limit instead of guessing', () => {
    const a = Array.from({ length: 2000 }, (_, i) => `a${i}\n`);
    const b = Array.from({ length: 2000 }, (_, i) => `b${i}\n`);
    expect(countLineChanges(a, b)).toBeUndefined();
  });
});
