import { describe, expect, it } from '@jest/globals';
import { parseTemplate, renderTemplate, type TemplateValue } from './index.js';
import { failure, render } from './test-support/render.js';

describe('rendering', () => {
  describe('truth is Go truth: false, 0, nil and empty strings, lists and maps are false', () => {
    it.each<[string, TemplateValue, string]>([
      ['empty string', '', 'F'],
      ['string', 'x', 'T'],
      ['zero', 0, 'F'],
      ['fraction', 0.5, 'T'],
      ['negative', -1, 'T'],
      ['false', false, 'F'],
      ['true', true, 'T'],
      ['nil', null, 'F'],
      ['empty list', [], 'F'],
      ['list of a falsy item', [0], 'T'],
      ['empty map', {}, 'F'],
      ['map of a falsy value', { a: 0 }, 'T'],
    ])('%s', (_name, value, expected) => {
      const data = { v: value };
      expect(render('${{ if .v }}T${{ else }}F${{ end }}', data)).toBe(expected);
      expect(render('${{ if not .v }}F${{ else }}T${{ end }}', data)).toBe(expected);
      expect(render('${{ with .v }}T${{ else }}F${{ end }}', data)).toBe(expected);
    });

    it('a missing key is false', () => {
      expect(render('${{ if repository.branch }}T${{ else }}F${{ end }}', { repository: {} })).toBe(
        'F',
      );
    });
  });

  describe('values print as Go prints them with %v', () => {
    it.each<[string, TemplateValue, string]>([
      ['a string as is', 'a b', 'a b'],
      ['an integer', 42, '42'],
      ['a negative integer', -7, '-7'],
      ['a fraction, shortest', 1.5, '1.5'],
      ['a small fraction in exponent form', 0.00001, '1e-05'],
      ['a fraction at the edge of exponent form', 0.0001, '0.0001'],
      ['a large fraction in exponent form', 1234567.5, '1.2345675e+06'],
      ['a fraction below a million in plain form', 123456.7, '123456.7'],
      ['a huge number as a float', 1e21, '1e+21'],
      ['booleans', true, 'true'],
      ['nil as nothing (Go prints <no value>)', null, ''],
      ['an empty list', [], '[]'],
      ['a list', ['a', 'b'], '[a b]'],
      ['nested lists, nil inside', [1, [2, 3], 'a b', null], '[1 [2 3] a b <nil>]'],
      ['a map with sorted keys', { b: 1, a: 'x', C: true }, 'map[C:true a:x b:1]'],
      ['nested maps', { m: { z: [], y: {} } }, 'map[m:map[y:map[] z:[]]]'],
      ['a list with an empty string', [''], '[]'],
    ])('%s', (_name, value, expected) => {
      expect(render('${{ .v }}', { v: value })).toBe(expected);
    });

    it('sorts map keys by code point, as Go sorts strings', () => {
      expect(render('${{ .v }}', { v: { é: 1, z: 2, Z: 3, 'a b': 4 } })).toBe(
        'map[Z:3 a b:4 z:2 é:1]',
      );
    });

    it('prints a Map like a plain object', () => {
      const map = new Map<string, TemplateValue>([
        ['b', 2],
        ['a', 1],
      ]);
      expect(
        renderTemplate(parseTemplate('${{ .v }} ${{ .v.a }}'), {
          v: map as unknown as TemplateValue,
        }),
      ).toBe('map[a:1 b:2] 1');
    });

    it('a missing key inside a known namespace prints nothing', () => {
      expect(
        render('[${{ repository.branch }}][${{ repository.a.b.c }}]', { repository: {} }),
      ).toBe('[][]');
    });

    it('"." at the top is the whole data', () => {
      expect(render('${{ . }}', { b: 1, a: [1] })).toBe('map[a:[1] b:1]');
    });
  });

  describe('if, else if, else', () => {
    it.each([
      [
        'the first true branch wins',
        '${{ if eq .n 1 }}a${{ else if eq .n 2 }}b${{ else if eq .n 2 }}c${{ else }}d${{ end }}',
        'b',
      ],
      [
        'else when nothing matches',
        '${{ if eq .n 1 }}a${{ else if eq .n 3 }}b${{ else }}d${{ end }}',
        'd',
      ],
      ['no output without else', '${{ if eq .n 1 }}a${{ end }}', ''],
      ['nested ifs', '${{ if .n }}${{ if eq .n 2 }}two${{ end }}${{ end }}', 'two'],
      ['if keeps the dot', '${{ if .n }}${{ .n }}${{ end }}', '2'],
    ])('%s', (_name, source, expected) => {
      expect(render(source, { n: 2 })).toBe(expected);
    });
  });

  describe('with', () => {
    it.each([
      ['sets the dot', '${{ with .m }}${{ .k }}${{ end }}', 'v'],
      [
        'else for an empty value keeps the outer dot',
        '${{ with .e }}x${{ else }}${{ .m.k }}${{ end }}',
        'v',
      ],
      ['else with (Go 1.23)', '${{ with .e }}x${{ else with .m }}${{ .k }}${{ end }}', 'v'],
      ['declares a variable', '${{ with $x := .m.k }}${{ $x }}${{ . }}${{ end }}', 'vv'],
    ])('%s', (_name, source, expected) => {
      expect(render(source, { m: { k: 'v' }, e: '' })).toBe(expected);
    });
  });

  describe('range', () => {
    const data = {
      l: ['a', 'b'],
      m: { b: 2, a: 1, C: 3 },
      empty: [],
      nil: null,
      n: [1, 2, 3, 4, 5],
      name: 'N',
    };
    it.each([
      [
        'over a list, index and element',
        '${{ range $i, $x := .l }}[${{ $i }}=${{ $x }}]${{ end }}',
        '[0=a][1=b]',
      ],
      [
        'one variable is the element',
        '${{ range $x := .l }}[${{ $x }}|${{ . }}]${{ end }}',
        '[a|a][b|b]',
      ],
      [
        'over a map in key order',
        '${{ range $k, $v := .m }}${{ $k }}=${{ $v }};${{ end }}',
        'C=3;a=1;b=2;',
      ],
      [
        'one variable over a map is the value',
        '${{ range $v := .m }}${{ $v }};${{ end }}',
        '3;1;2;',
      ],
      ['else for an empty list', '${{ range .empty }}x${{ else }}empty${{ end }}', 'empty'],
      ['else for nil', '${{ range .nil }}x${{ else }}nil${{ end }}', 'nil'],
      ['else for a missing key', '${{ range .m.nothing }}x${{ else }}none${{ end }}', 'none'],
      [
        'over a number (Go 1.22)',
        '${{ range 3 }}${{ . }}${{ end }}|${{ range $i := 2 }}${{ $i }}${{ end }}',
        '012|01',
      ],
      [
        'break and continue',
        '${{ range .n }}${{ if eq . 2 }}${{ continue }}${{ end }}${{ if eq . 4 }}${{ break }}${{ end }}${{ . }}${{ end }}',
        '13',
      ],
      ['"$" is still the data', '${{ range .l }}${{ $.name }}${{ end }}', 'NN'],
      [
        'nested ranges',
        '${{ range $x := .l }}${{ range $.l }}${{ $x }}${{ . }} ${{ end }}${{ end }}',
        'aa ab ba bb ',
      ],
      [
        'assignment inside range persists',
        '${{ $last := "" }}${{ range .l }}${{ $last = . }}${{ end }}${{ $last }}',
        'b',
      ],
      [
        'else sees the declared variable',
        '${{ range $x := .empty }}${{ else }}${{ len $x }}${{ end }}',
        '0',
      ],
    ])('%s', (_name, source, expected) => {
      expect(render(source, data)).toBe(expected);
    });

    it.each([
      ['a string', '${{ range "abc" }}${{ end }}', 'wrong-type', '1:11'],
      ['a fraction', '${{ range 1.5 }}${{ end }}', 'wrong-type', '1:11'],
      ['a number with two variables', '${{ range $i, $x := 3 }}${{ end }}', 'wrong-type', '1:11'],
    ])('refuses to range over %s', (_name, source, code, at) => {
      expect(failure(source)).toMatchObject({ code, at });
    });
  });

  describe('pipelines, arguments and fields', () => {
    const data = { l: [1, 2, 3], m: { k: { f: 'F' } }, s: 'hello' };
    it.each([
      ['the piped value is the last argument', '${{ "a" | printf "%s-%s" "b" }}', 'b-a'],
      ['a chain of pipes', '${{ .s | len | printf "%03d" }}', '005'],
      ['parentheses', '${{ (len .l) }} ${{ print (len .l) (len .s) }}', '3 3 5'],
      ['fields of a parenthesized pipeline', '${{ (index .m "k").f }}', 'F'],
      ['fields of "$"', '${{ $.m.k.f }}', 'F'],
      ['fields of a variable', '${{ $m := .m }}${{ $m.k.f }}', 'F'],
      ['fields of a namespace', '${{ repository.name }}', 'R'],
      ['fields of a parenthesized namespace', '${{ (repository).name }}', 'R'],
      ['a namespace as an argument', '${{ len repository }}', '1'],
      ['an empty pipe is accepted as in Go', '${{ 1 | }}', '1'],
    ])('%s', (_name, source, expected) => {
      expect(render(source, { ...data, repository: { name: 'R' } })).toBe(expected);
    });

    it('and/or return the deciding operand and stop there', () => {
      expect(
        render('${{ and 0 (index .l 99) }}|${{ or "" "x" }}|${{ and 1 2 }}|${{ or 0 "" }}', data),
      ).toBe('0|x|2|');
      expect(render('${{ "x" | and 1 }}|${{ 0 | or 2 }}|${{ "" | and 1 }}')).toBe('x|2|');
    });

    it.each([
      ['nil as a command', '${{ nil }}', 'syntax', '1:5'],
      ['arguments to a field', '${{ .s 1 }}', 'not-a-function', '1:8'],
      ['a piped value into a field', '${{ 1 | .s }}', 'not-a-function', '1:9'],
      ['arguments to a constant', '${{ 1 2 }}', 'not-a-function', '1:7'],
      ['arguments to a parenthesized pipeline', '${{ (1) 2 }}', 'not-a-function', '1:9'],
      ['arguments to a namespace', '${{ repository "x" }}', 'not-a-function', '1:16'],
      ['a field of a string', '${{ .s.x }}', 'bad-field', '1:7'],
      ['a field of a list', '${{ .l.x }}', 'bad-field', '1:7'],
      ['a field of nil', '${{ .n.x }}', 'nil-field', '1:7'],
    ])('errors on %s', (_name, source, code, at) => {
      expect(failure(source, { ...data, n: null, repository: { name: 'R' } })).toMatchObject({
        code,
        at,
      });
    });
  });

  it('prints nothing for an action that declares a variable', () => {
    expect(render('a${{ $x := 5 }}b${{ $x = 6 }}c${{ $x }}')).toBe('abc6');
  });

  it('renders the same output every time, whatever order the data was built in', () => {
    const one = { v: { a: 1, b: [1, 2], c: { y: 1, x: 2 } } };
    const other = { v: { c: { x: 2, y: 1 }, b: [1, 2], a: 1 } };
    const template = parseTemplate('${{ .v }} ${{ range $k, $x := .v }}${{ $k }}${{ end }}');
    expect(renderTemplate(template, one)).toBe(renderTemplate(template, other));
    expect(renderTemplate(template, one)).toBe(renderTemplate(template, one));
  });
});
