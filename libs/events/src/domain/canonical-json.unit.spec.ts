import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts object keys at every depth, leaving array order alone', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }, 'x'] })).toBe(
      '{"a":[{"c":3,"d":2},"x"],"b":1}',
    );
    expect(canonicalJson({ a: { z: null, y: [] } })).toBe(canonicalJson({ a: { y: [], z: null } }));
  });

  it('sorts integer-like keys as text too, which JavaScript objects would put first', () => {
    expect(canonicalJson({ '10': 1, '': 2, '9': 3, a: 4 })).toBe('{"":2,"10":1,"9":3,"a":4}');
  });

  it('writes what JSON.stringify writes, apart from the key order', () => {
    const value = {
      text: 'quote " and \u2028',
      n: -1.5e-7,
      nested: { list: [1, undefined, null, () => 1], skipped: undefined, fn: () => 1 },
      when: new Date('2026-12-04T00:00:00Z'),
    };
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(canonicalJson(value)).toBe(
      '{"n":-1.5e-7,"nested":{"list":[1,null,null,null]},"text":"quote \\" and \u2028","when":"2026-12-04T00:00:00.000Z"}',
    );
  });

  it('always returns a string, null for undefined', () => {
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('a')).toBe('"a"');
    expect(canonicalJson(null)).toBe('null');
  });
});
