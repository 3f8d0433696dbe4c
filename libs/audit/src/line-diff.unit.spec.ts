import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { diffLines, splitLines, unifiedDiff } from './line-diff.js';

/** The length of a longest common subsequence, by dynamic programming (the reference). */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(row[j]!, row[j - 1]!);
      diagonal = above;
    }
  }
  return row[b.length]!;
}

describe('diffLines', () => {
  it('turns the old lines into the new ones with as few edits as possible', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 }),
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 }),
        (a, b) => {
          const script = diffLines(a, b);
          expect(script.filter((l) => l.op !== '+').map((l) => l.text)).toEqual(a);
          expect(script.filter((l) => l.op !== '-').map((l) => l.text)).toEqual(b);
          expect(script.filter((l) => l.op === ' ')).toHaveLength(lcsLength(a, b));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('numbers lines on both sides', () => {
    expect(diffLines(['x', 'y', 'z'], ['x', 'Y', 'z'])).toEqual([
      { op: ' ', text: 'x', oldLine: 1, newLine: 1 },
      { op: '-', text: 'y', oldLine: 2, newLine: 2 },
      { op: '+', text: 'Y', oldLine: 3, newLine: 2 },
      { op: ' ', text: 'z', oldLine: 3, newLine: 3 },
    ]);
  });

  it('handles empty texts', () => {
    expect(diffLines([], [])).toEqual([]);
    expect(diffLines([], ['a']).map((l) => l.op)).toEqual(['+']);
    expect(diffLines(['a'], []).map((l) => l.op)).toEqual(['-']);
  });
});

describe('splitLines', () => {
  it('does not count a final newline as an empty line', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\r\nb')).toEqual(['a', 'b']);
    expect(splitLines('a\n\n')).toEqual(['a', '']);
  });
});

describe('unifiedDiff', () => {
  const spec = (title: string) =>
    [
      'name: hello-world',
      'description: Add Hello World to READMEs',
      'on:',
      '  - repositoriesMatchingQuery: file:README.md',
      'steps:',
      '  - run: echo Hello',
      '    container: alpine:3',
      'changesetTemplate:',
      `  title: ${title}`,
      '  body: My first campaign!',
      '  branch: hello-world',
      '',
    ].join('\n');

  it('shows a changed line with three lines of context', () => {
    expect(
      unifiedDiff(spec('Hello World'), spec('Hello, World'), { oldName: 'old', newName: 'new' }),
    ).toBe(
      [
        '--- old',
        '+++ new',
        '@@ -6,6 +6,6 @@',
        '   - run: echo Hello',
        '     container: alpine:3',
        ' changesetTemplate:',
        '-  title: Hello World',
        '+  title: Hello, World',
        '   body: My first campaign!',
        '   branch: hello-world',
        '',
      ].join('\n'),
    );
  });

  it('is empty for the same lines', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb')).toBe('');
  });

  it('shows a whole new text as one hunk of additions', () => {
    expect(unifiedDiff('', 'a\nb\n')).toBe('--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  });

  it('keeps changes far apart in separate hunks and close ones in one', () => {
    const old = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const far = [...old];
    far[1] = 'changed 2';
    far[17] = 'changed 18';
    const farDiff = unifiedDiff(old.join('\n'), far.join('\n'), { context: 1 });
    expect(farDiff.match(/^@@/gm)).toHaveLength(2);
    expect(farDiff).toContain('@@ -1,3 +1,3 @@\n line 1\n-line 2\n+changed 2\n line 3\n');
    expect(farDiff).toContain('@@ -17,3 +17,3 @@\n line 17\n-line 18\n+changed 18\n line 19\n');
    const close = [...old];
    close[1] = 'changed 2';
    close[4] = 'changed 5';
    expect(unifiedDiff(old.join('\n'), close.join('\n'), { context: 1 }).match(/^@@/gm)).toEqual([
      '@@',
    ]);
  });

  it('applies: the hunks rebuild the new text from the old one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 25 }),
        fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 25 }),
        (a, b) => {
          const patch = unifiedDiff(a.join('\n'), b.join('\n'), { context: 2 });
          expect(applyPatch(a, patch)).toEqual(b);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** A minimal patch applier for the property above: trusts the hunk headers' old positions. */
function applyPatch(old: readonly string[], patch: string): string[] {
  if (patch === '') return [...old];
  const out: string[] = [];
  let at = 0;
  const lines = splitLines(patch).slice(2);
  for (const line of lines) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(line);
    if (header) {
      const start = Number(header[1]);
      const count = header[2] === undefined ? 1 : Number(header[2]);
      const first = count === 0 ? start : start - 1;
      while (at < first) out.push(old[at++]!);
      continue;
    }
    if (line.startsWith('+')) out.push(line.slice(1));
    else if (line.startsWith('-')) {
      expect(old[at]).toBe(line.slice(1));
      at++;
    } else {
      expect(old[at]).toBe(line.slice(1));
      out.push(old[at++]!);
    }
  }
  while (at < old.length) out.push(old[at++]!);
  return out;
}
