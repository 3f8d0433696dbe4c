import { describe, expect, it } from '@jest/globals';
import { DEFAULT_MAX_DEPTH, parseTemplate, renderTemplate, type TemplateValue } from './index.js';
import { failure, render, workspaceData } from './test-support/render.js';

/** Values a careless or hostile caller might put in template data, typed loosely on purpose. */
const loose = (value: unknown): TemplateValue => value as TemplateValue;

/** Runs `work` and fails if it takes longer than `limitMs`: limits must stop work, not just report it. */
function within<T>(limitMs: number, work: () => T): T {
  const started = Date.now();
  const result = work();
  expect(Date.now() - started).toBeLessThan(limitMs);
  return result;
}

describe('hostile templates and data', () => {
  describe('nothing reaches a prototype', () => {
    it.each([
      ['.constructor', '${{ .constructor }}', '1:5'],
      ['.__proto__ of a namespace', '${{ repository.__proto__ }}', '1:15'],
      ['.prototype deep in a chain', '${{ $.outputs.x.prototype }}', '1:16'],
      ['.constructor of a variable', '${{ $r := repository }}${{ $r.constructor.name }}', '1:30'],
    ])('%s is refused when parsing', (_name, source, at) => {
      expect(failure(source, workspaceData())).toMatchObject({ code: 'forbidden-name', at });
    });

    it.each([
      ['constructor', '${{ index repository "constructor" }}', '1:22'],
      ['__proto__', '${{ index . "__proto__" }}', '1:13'],
      ['prototype', '${{ index outputs.project "prototype" }}', '1:27'],
    ])('%s is refused as an index key', (_name, source, at) => {
      expect(failure(source, workspaceData())).toMatchObject({ code: 'forbidden-name', at });
    });

    it('reads only own data properties, never inherited methods', () => {
      const data = workspaceData();
      expect(
        render(
          '[${{ repository.toString }}][${{ repository.hasOwnProperty }}][${{ repository.valueOf }}]',
          data,
        ),
      ).toBe('[][][]');
      expect(
        render('[${{ index repository "toString" }}][${{ len repository.toString }}]', data),
      ).toBe('[][0]');
      expect(failure('${{ outputs.toString }}', data)).toMatchObject({ code: 'missing-output' });
      expect(failure('${{ .toString }}', data)).toMatchObject({ code: 'unknown-namespace' });
      expect(render('${{ range $k, $v := repository }}${{ $k }} ${{ end }}', data)).toBe(
        'branch name search_result_paths ',
      );
    });

    it('treats a "__proto__" key parsed from JSON as data, and still refuses the name', () => {
      const output = loose(JSON.parse('{"__proto__": {"polluted": "yes"}, "ok": 1}'));
      const data = { ...workspaceData(), outputs: { json: output } };
      expect(render('${{ outputs.json.ok }} ${{ len outputs.json }}', data)).toBe('1 2');
      expect(failure('${{ index outputs.json "__proto__" }}', data)).toMatchObject({
        code: 'forbidden-name',
      });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('never calls a getter', () => {
      let calls = 0;
      const repository = {
        get name(): string {
          calls += 1;
          return 'github.com/acme/api';
        },
      };
      expect(failure('${{ repository.name }}', { repository: loose(repository) })).toMatchObject({
        code: 'unsupported-value',
        at: '1:15',
      });
      expect(failure('${{ repository }}', { repository: loose(repository) })).toMatchObject({
        code: 'unsupported-value',
      });
      expect(calls).toBe(0);
    });

    it('refuses a getter on the data itself', () => {
      const data = Object.defineProperty({}, 'outputs', { get: () => ({}), enumerable: true });
      expect(failure('x', data)).toMatchObject({ code: 'unsupported-value', at: '1:1' });
    });

    it.each<[string, unknown]>([
      ['a function', () => 'x'],
      ['a Date', new Date(0)],
      ['a class instance', new (class Repository {})()],
      ['a RegExp', /x/],
      ['a bigint', 1n],
      ['a symbol', Symbol('x')],
    ])('refuses %s in the data with a clear error', (_name, value) => {
      const data = { repository: loose({ name: value }) };
      expect(failure('${{ repository.name }}', data)).toMatchObject({
        code: 'unsupported-value',
        at: '1:5',
      });
    });

    it('refuses data that is not a plain object or a Map', () => {
      const template = parseTemplate('x');
      expect(() => renderTemplate(template, loose([]) as never)).toThrow(
        'template data must be a plain object or a Map',
      );
      expect(() => renderTemplate(template, loose(new Date()) as never)).toThrow(/plain object/);
    });

    it('reads objects without a prototype and Maps with string keys', () => {
      const bare = Object.assign(Object.create(null) as Record<string, TemplateValue>, {
        name: 'bare',
      });
      const map = new Map<unknown, unknown>([
        ['name', 'mapped'],
        [1, 'not a string key'],
      ]);
      expect(render('${{ repository.name }}', { repository: bare })).toBe('bare');
      expect(render('${{ repository.name }} ${{ repository }}', { repository: loose(map) })).toBe(
        'mapped map[name:mapped]',
      );
    });
  });

  describe('nesting is bounded, without stack overflows', () => {
    it('refuses 10,000 nested parentheses at the first one past the limit', () => {
      const source = '${{ ' + '('.repeat(10_000) + '1' + ')'.repeat(10_000) + ' }}';
      const error = within(2_000, () => failure(source));
      expect(error).toMatchObject({
        code: 'depth-limit',
        at: `1:${4 + DEFAULT_MAX_DEPTH + 1}`,
        token: '(',
      });
    });

    it('refuses 10,000 nested ifs', () => {
      const source = '${{ if true }}'.repeat(10_000) + 'x' + '${{ end }}'.repeat(10_000);
      expect(within(2_000, () => failure(source))).toMatchObject({
        code: 'depth-limit',
        at: '1:1405',
        token: 'if',
      });
    });

    it('refuses an else-if chain longer than the nesting limit', () => {
      const source = '${{ if false }}' + '${{ else if false }}'.repeat(200) + '${{ end }}';
      expect(failure(source)).toMatchObject({ code: 'depth-limit' });
    });

    it('takes a lower limit when parsing or rendering', () => {
      expect(() => parseTemplate('${{ (((1))) }}', { maxDepth: 2 })).toThrow(
        /nesting is deeper than the limit of 2/,
      );
      const template = parseTemplate(
        '${{ if true }}${{ if true }}${{ if true }}x${{ end }}${{ end }}${{ end }}',
      );
      expect(renderTemplate(template, {})).toBe('x');
      expect(() => renderTemplate(template, {}, { maxDepth: 2 })).toThrow(
        /nests deeper than the limit of 2/,
      );
    });

    it('evaluates long flat pipelines and field chains without recursion', () => {
      expect(render('${{ 1' + ' | print'.repeat(10_000) + ' }}')).toBe('1');
      expect(render('[${{ repository' + '.x'.repeat(10_000) + ' }}]', { repository: {} })).toBe(
        '[]',
      );
    });

    it('refuses to print data that contains itself', () => {
      const cyclic: Record<string, unknown> = { name: 'loop' };
      cyclic.self = cyclic;
      expect(render('${{ repository.self.self.self.name }}', { repository: loose(cyclic) })).toBe(
        'loop',
      );
      expect(failure('${{ repository }}', { repository: loose(cyclic) })).toMatchObject({
        code: 'unsupported-value',
        at: '1:5',
      });
    });

    it('refuses to print data nested 100,000 deep', () => {
      let deep: unknown = [];
      for (let i = 0; i < 100_000; i++) deep = [deep];
      expect(failure('${{ outputs.deep }}', { outputs: { deep: loose(deep) } })).toMatchObject({
        code: 'unsupported-value',
      });
    });
  });

  describe('work is bounded', () => {
    it('stops a range over a billion', () => {
      const error = within(5_000, () =>
        failure('${{ range 1000000000 }}x${{ end }}', {}, { maxOutputBytes: 1e9 }),
      );
      expect(error).toMatchObject({ code: 'step-limit' });
      expect(error.message).toContain('more than 1000000 steps');
    });

    it('stops nested ranges that multiply', () => {
      const data = { outputs: { list: Array.from({ length: 1000 }, (_, i) => i) } };
      const source =
        '${{ range outputs.list }}${{ range outputs.list }}${{ range outputs.list }}${{ end }}${{ end }}${{ end }}';
      expect(within(5_000, () => failure(source, data))).toMatchObject({ code: 'step-limit' });
    });

    it('takes a lower step limit', () => {
      expect(render('${{ range 3 }}${{ . }}${{ end }}', {}, { maxSteps: 100 })).toBe('012');
      expect(failure('${{ range 100 }}${{ . }}${{ end }}', {}, { maxSteps: 100 })).toMatchObject({
        code: 'step-limit',
      });
    });

    it('stops output past the limit, counted in UTF-8 bytes', () => {
      expect(
        within(5_000, () => failure('${{ range 2000 }}${{ printf "%1000d" 1 }}${{ end }}')),
      ).toMatchObject({
        code: 'output-limit',
        at: '1:22',
      });
      expect(render('${{ range 600 }}é${{ end }}', {}, { maxOutputBytes: 1200 })).toHaveLength(600);
      expect(failure('${{ range 601 }}é${{ end }}', {}, { maxOutputBytes: 1200 })).toMatchObject({
        code: 'output-limit',
      });
    });

    it('stops strings that grow exponentially before building them', () => {
      let source = '"x"';
      for (let i = 0; i < 30; i++) source = `(replace ${source} "" "xx")`;
      expect(within(5_000, () => failure(`\${{ ${source} }}`))).toMatchObject({
        code: 'output-limit',
      });
    });

    it('stops a join or print of too much data', () => {
      const data = { outputs: { many: Array.from({ length: 200_000 }, () => 'abcdefghij') } };
      expect(failure('${{ $x := join outputs.many "," }}', data)).toMatchObject({
        code: 'output-limit',
        at: '1:11',
      });
      expect(failure('${{ $x := print outputs.many }}', data)).toMatchObject({
        code: 'output-limit',
        at: '1:11',
      });
    });

    it('refuses glob patterns with too many alternatives', () => {
      expect(failure('${{ matches "x" "' + '{a,b}'.repeat(11) + '" }}')).toMatchObject({
        code: 'bad-glob',
        at: '1:17',
      });
    });
  });

  describe('large templates', () => {
    it('parses and renders a 1 MB template with 40,000 actions in linear time', () => {
      const line = 'Repository ${{ repository.name }} in ${{ steps.path }}\n';
      const source = line.repeat(Math.floor(1_000_000 / line.length));
      const output = within(10_000, () =>
        render(source, workspaceData(), { maxOutputBytes: 10_000_000 }),
      );
      expect(output.split('\n')[0]).toBe(
        'Repository github.com/sourcegraph/src-cli in sub/directory/of/repo',
      );
    });

    it('handles a 1 MB string literal and shortens it in errors', () => {
      const literal = 'a'.repeat(1_000_000);
      expect(render(`\${{ "${literal}" }}`, {}, { maxOutputBytes: 2_000_000 })).toHaveLength(
        1_000_000,
      );
      const error = failure(`\${{ "${literal} }}`);
      expect(error).toMatchObject({ code: 'syntax', at: '1:5' });
      expect(error.token.length).toBeLessThanOrEqual(60);
    });

    it('refuses a template larger than 1 MiB', () => {
      const error = failure('x'.repeat(1024 * 1024 + 1));
      expect(error).toMatchObject({ code: 'source-limit', at: '1:1' });
      expect(error.message).toContain('1048577 bytes, more than the limit of 1048576 bytes');
    });
  });
});
