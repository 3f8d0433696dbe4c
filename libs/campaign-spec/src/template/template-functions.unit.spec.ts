import { describe, expect, it } from '@jest/globals';
import { TEMPLATE_FUNCTIONS, TEMPLATE_HELPERS } from './index.js';
import { failure, render } from './test-support/render.js';

const data = {
  l: [1, 2, 3],
  nested: [[1], [2, 3]],
  words: ['x', 'y'],
  m: { a: 'A', n: null },
  s: 'héllo',
  nil: null,
  mixed: ['a', 1],
  repository: { name: 'github.com/acme/api' },
};

describe('template functions', () => {
  it('lists every function, built-ins first, then Sourcegraph helpers', () => {
    expect(TEMPLATE_FUNCTIONS).toEqual([
      'and',
      'or',
      'not',
      'len',
      'index',
      'slice',
      'eq',
      'ne',
      'lt',
      'le',
      'gt',
      'ge',
      'print',
      'println',
      'printf',
      'join',
      'join_if',
      'replace',
      'split',
      'matches',
    ]);
    expect(TEMPLATE_HELPERS).toEqual(['join', 'join_if', 'replace', 'split', 'matches']);
  });

  describe('built-ins behave as in Go', () => {
    it.each([
      ['not', '${{ not 0 }} ${{ not "a" }} ${{ true | not }}', 'true false false'],
      ['len counts bytes of strings', '${{ len "héllo" }} ${{ len "" }}', '6 0'],
      ['len of lists and maps', '${{ len .l }} ${{ len .m }}', '3 2'],
      ['len of a missing key is 0', '${{ len repository.nothing }}', '0'],
      ['index into lists', '${{ index .l 1 }} ${{ index .nested 1 0 }}', '2 2'],
      ['index into maps', '${{ index .m "a" }}', 'A'],
      ['index of a missing key is no value', '[${{ index .m "zzz" }}]', '[]'],
      ['index with no keys is the item', '${{ index .l }}', '[1 2 3]'],
      ['index into a string gives a byte', '${{ index "abc" 1 }}', '98'],
      [
        'slice of a list',
        '${{ slice .l 1 }} ${{ slice .l 1 2 }} ${{ slice .l 0 1 2 }} ${{ slice .l }} ${{ slice .l 3 }}',
        '[2 3] [2] [1] [1 2 3] []',
      ],
      ['slice of a string by bytes', '${{ slice "hello" 1 3 }} ${{ slice "hello" 2 }}', 'el llo'],
      [
        'eq on strings, numbers and booleans',
        '${{ eq "a" "a" }} ${{ eq 1 2 }} ${{ eq true true }} ${{ eq 0.1 0.1 }}',
        'true false true true',
      ],
      ['eq with several candidates', '${{ eq 3 1 2 3 }} ${{ eq 4 1 2 3 }}', 'true false'],
      [
        'eq with nil',
        '${{ eq .nil nil }} ${{ eq "x" nil }} ${{ eq repository.nothing nil }}',
        'true false true',
      ],
      ['ne', '${{ ne 1 2 }} ${{ ne "a" "a" }}', 'true false'],
      [
        'lt, le, gt, ge on numbers',
        '${{ lt 1 2 }} ${{ le 2 2 }} ${{ gt 1 2 }} ${{ ge 2 2 }} ${{ lt -1 0 }} ${{ ge 1.5 1 }}',
        'true true false true true true',
      ],
      [
        'strings order by code point',
        '${{ lt "Z" "a" }} ${{ lt "a" "ab" }} ${{ gt "é" "z" }} ${{ lt "😀" "\uffff" }}',
        'true true true false',
      ],
      [
        'print puts spaces only between non-strings',
        '${{ print "a" 1 2 "b" }}|${{ print }}|${{ print 1 2 "a" nil }}',
        'a1 2b||1 2a<nil>',
      ],
      [
        'println puts spaces everywhere and a newline',
        '${{ println "a" 1 }}|${{ println }}',
        'a 1\n|\n',
      ],
      ['print of lists and maps', '${{ print .words .m }}', '[x y] map[a:A n:<nil>]'],
      ['printf', '${{ printf "%s=%d" "n" 5 }}', 'n=5'],
    ])('%s', (_name, source, expected) => {
      expect(render(source, data)).toBe(expected);
    });
  });

  describe('Sourcegraph helpers', () => {
    it.each([
      [
        'join a list with a separator',
        '${{ join .words ", " }}|${{ join (split "a b" " ") "\\n" }}',
        'x, y|a\nb',
      ],
      ['join an empty list', '[${{ join (slice .words 0 0) "," }}]', '[]'],
      ['join_if skips empty items', '${{ join_if "-" "a" "" "b" "" }}', 'a-b'],
      ['join_if with no items', '[${{ join_if "-" }}]', '[]'],
      [
        'join_if with a missing key as an item',
        '${{ join_if "/" "a" repository.nothing "b" }}',
        'a/b',
      ],
      ['replace every occurrence', '${{ replace "a/b/c" "/" "-" }}', 'a-b-c'],
      [
        'replace an empty string inserts around every character',
        '${{ replace "abc" "" "-" }}|${{ replace "" "" "-" }}',
        '-a-b-c-|-',
      ],
      ['replace with nothing to replace', '${{ replace "abc" "x" "y" }}', 'abc'],
      [
        'split on a separator',
        '${{ split "a,b,,c" "," }}|${{ len (split "a,b,,c" ",") }}',
        '[a b  c]|4',
      ],
      ['split into characters', '${{ split "héllo" "" }}', '[h é l l o]'],
      ['split an empty string', '${{ len (split "" ",") }} ${{ len (split "" "") }}', '1 0'],
      ['split then index', '${{ index (split repository.name "/") 1 }}', 'acme'],
      [
        'matches a glob',
        '${{ matches repository.name "github.com/acme/*" }} ${{ matches repository.name "*/other/*" }}',
        'true false',
      ],
    ])('%s', (_name, source, expected) => {
      expect(render(source, data)).toBe(expected);
    });
  });

  describe('calls with the wrong arguments fail where the argument is', () => {
    it.each([
      ['too few arguments', '${{ join .words }}', 'wrong-arity', '1:5', 'want 2, got 1'],
      ['too many arguments', '${{ not 1 2 }}', 'wrong-arity', '1:5', 'want 1, got 2'],
      ['none at all for a variadic', '${{ and }}', 'wrong-arity', '1:5', 'want at least 1, got 0'],
      ['eq with one argument', '${{ eq 1 }}', 'wrong-arity', '1:5', 'want at least 2, got 1'],
      ['printf without a format', '${{ printf }}', 'wrong-arity', '1:5', 'want at least 1, got 0'],
      [
        'slice with four indexes',
        '${{ slice .l 0 1 2 3 }}',
        'wrong-arity',
        '1:5',
        'want 1 to 4, got 5',
      ],
      ['piped values count', '${{ "a" | replace "b" }}', 'wrong-arity', '1:11', 'want 3, got 2'],
      [
        'a format that is not a string',
        '${{ printf 1 }}',
        'wrong-type',
        '1:12',
        'argument 1 (the format) must be a string, got number 1',
      ],
      [
        'join of a string',
        '${{ join repository.name "," }}',
        'wrong-type',
        '1:10',
        'must be a list of strings, got string "github.com/acme/api"',
      ],
      [
        'join of a list with a number',
        '${{ join .mixed "," }}',
        'wrong-type',
        '1:10',
        'item 1 is number 1',
      ],
      [
        'join with a number separator',
        '${{ join .words 1 }}',
        'wrong-type',
        '1:17',
        'argument 2 (the separator) must be a string, got number 1',
      ],
      [
        'join_if with a list item',
        '${{ join_if "," "a" .words }}',
        'wrong-type',
        '1:21',
        'argument 3 (an item) must be a string, got list',
      ],
      [
        'replace in a number',
        '${{ replace 1 "a" "b" }}',
        'wrong-type',
        '1:13',
        'argument 1 (the text) must be a string',
      ],
      ['split nil', '${{ split .nil "," }}', 'wrong-type', '1:11', 'got nil'],
      [
        'matches against a list',
        '${{ matches .words "*" }}',
        'wrong-type',
        '1:13',
        'must be a string, got list',
      ],
      ['a bad glob', '${{ matches "a" "[a" }}', 'bad-glob', '1:17', 'unclosed "[" in pattern'],
      ['len of nil', '${{ len .nil }}', 'wrong-type', '1:9', 'len of nil'],
      ['len of a number', '${{ len 3 }}', 'wrong-type', '1:9', 'len of number 3'],
      [
        'index out of range',
        '${{ index .l 5 }}',
        'index-out-of-range',
        '1:14',
        'index out of range: 5 (the list has 3 items)',
      ],
      [
        'index with a negative number',
        '${{ index .l -1 }}',
        'index-out-of-range',
        '1:14',
        'index out of range: -1',
      ],
      [
        'index a list with a string',
        '${{ index .l "a" }}',
        'wrong-type',
        '1:14',
        'cannot index a list with string "a"',
      ],
      [
        'index a map with a number',
        '${{ index .m 1 }}',
        'wrong-type',
        '1:14',
        'cannot index a map with number 1',
      ],
      ['index nil', '${{ index nil 1 }}', 'wrong-type', '1:11', 'index of nil'],
      ['index a number', '${{ index 5 1 }}', 'wrong-type', '1:11', 'index of number 5'],
      [
        'slice out of range',
        '${{ slice .l 4 }}',
        'index-out-of-range',
        '1:14',
        'index out of range: 4',
      ],
      [
        'slice indexes out of order',
        '${{ slice .l 2 1 }}',
        'index-out-of-range',
        '1:16',
        'invalid slice index: 2 > 1',
      ],
      [
        'three indexes on a string',
        '${{ slice "abc" 1 2 3 }}',
        'wrong-type',
        '1:21',
        'cannot 3-index slice a string',
      ],
      ['slice nil', '${{ slice nil }}', 'wrong-type', '1:11', 'slice of nil'],
      [
        'eq of different kinds',
        '${{ eq 1 "1" }}',
        'bad-comparison',
        '1:10',
        'incompatible types for comparison: number 1 and string "1"',
      ],
      ['eq of lists', '${{ eq .l .l }}', 'bad-comparison', '1:8', 'cannot compare list values'],
      [
        'lt of booleans',
        '${{ lt true false }}',
        'bad-comparison',
        '1:8',
        'invalid type for comparison: boolean true',
      ],
      [
        'lt with nil',
        '${{ lt 1 nil }}',
        'bad-comparison',
        '1:10',
        'invalid type for comparison: nil',
      ],
      [
        'gt of different kinds',
        '${{ gt "a" 1 }}',
        'bad-comparison',
        '1:12',
        'incompatible types for comparison',
      ],
    ])('%s', (_name, source, code, at, detail) => {
      const error = failure(source, data);
      expect({ code: error.code, at: error.at }).toEqual({ code, at });
      expect(error.message).toContain(detail);
    });
  });
});
