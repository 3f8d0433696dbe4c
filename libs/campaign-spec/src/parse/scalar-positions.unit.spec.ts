import { describe, expect, it } from '@jest/globals';
import { isMap, isScalar, LineCounter, parseDocument, type Scalar } from 'yaml';
import { sourceOffsetInScalar } from './scalar-positions.js';

/** Where in the file the `needle` of the value of `key` is: "line:column". */
function locateInValue(text: string, key: string, needle: string): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (!isMap(doc.contents)) throw new Error('not a mapping');
  const node = doc.contents.get(key, true) as Scalar;
  if (!isScalar(node) || typeof node.value !== 'string') throw new Error('not a string');
  const valueOffset = node.value.indexOf(needle);
  expect(valueOffset).toBeGreaterThanOrEqual(0);
  const { line, col } = lineCounter.linePos(sourceOffsetInScalar(text, node, valueOffset));
  return `${line}:${col}`;
}

describe('positions inside scalars map to the file', () => {
  it.each([
    ['plain', 'k: abc NEEDLE\n', '1:8'],
    ['plain over two lines', 'k: abc\n  def NEEDLE\n', '2:7'],
    ['double-quoted with escapes before', 'k: "a\\"b\\n\\u00e9 NEEDLE"\n', '1:18'],
    ['double-quoted over lines', 'k: "abc\n  def NEEDLE"\n', '2:7'],
    ['single-quoted with a doubled quote', "k: 'it''s NEEDLE'\n", '1:11'],
    ['literal block', 'k: |\n  first\n    indented NEEDLE\n', '3:14'],
    [
      'literal block with a header comment and indicator',
      'k: |2- # note\n  first\n  NEEDLE\n',
      '3:3',
    ],
    ['folded block', 'k: >\n  first\n  second NEEDLE\n', '3:10'],
  ])('%s', (_what, text, expected) => {
    expect(locateInValue(text, 'k', 'NEEDLE')).toBe(expected);
  });
});
