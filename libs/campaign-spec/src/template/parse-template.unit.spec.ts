import { describe, expect, it } from '@jest/globals';
import { isTemplated, parseTemplate, TemplateError } from './index.js';
import { failure, render } from './test-support/render.js';

describe('template syntax', () => {
  describe('text and trim markers behave as in Go', () => {
    it.each([
      ['no action', 'plain text }} with braces', 'plain text }} with braces'],
      ['"${{- " trims white space before the action', 'a \n\t ${{- 1 }} b', 'a1 b'],
      ['" -}}" trims white space after the action', 'a ${{ 1 -}} \n b', 'a 1b'],
      ['both markers', 'a \n ${{- 1 -}} \n b', 'a1b'],
      ['a minus without a space is a negative number, not a marker', '${{-3}}', '-3'],
      ['a newline after the marker counts as its space', 'x ${{-\n3\n-}} y', 'x3y'],
      ['a tab after the marker counts too', 'x\t${{-\t3\t-}}\ty', 'x3y'],
      ['trimming reaches across blank lines', '${{ 3 -}}\n\n  y', '3y'],
      ['a comment prints nothing', 'a ${{/* c */}} b', 'a  b'],
      ['a comment with trim markers', 'a ${{- /* c */ -}} b', 'ab'],
      ['a comment may span lines', 'a${{/* line1\nline2 */}}b', 'ab'],
      ['newlines inside an action are spaces', '${{\n"multi"\n}}', 'multi'],
      ['"$" before an action is text', '$${{ 1 }}', '$1'],
      ['a delimiter inside a string is just text', '${{ "${{" }} ${{ "}}" }}', '${{ }}'],
    ])('%s', (_name, source, expected) => {
      expect(render(source)).toBe(expected);
    });
  });

  describe('literals use Go syntax', () => {
    it.each([
      [
        'interpreted string escapes',
        '${{ "a\\tb|\\u00e9|\\x41|\\101|\\U0001F600|\\"|\\\\" }}',
        'a\tb|é|A|A|😀|"|\\',
      ],
      ['\\x escapes are bytes of UTF-8', '${{ "\\xc3\\xa9" }}', 'é'],
      ['raw strings keep backslashes', '${{ `a\\nb` }}', 'a\\nb'],
      ['raw strings may span lines and drop carriage returns', '${{ `one\r\ntwo` }}', 'one\ntwo'],
      [
        'character constants are numbers',
        "${{ 'a' }} ${{ '\\n' }} ${{ '\\x41' }} ${{ 'é' }}",
        '97 10 65 233',
      ],
      ['decimal, signed', '${{ 42 }} ${{ -7 }} ${{ +3 }}', '42 -7 3'],
      [
        'hex, octal, binary and separators',
        '${{ 0x1F }} ${{ 0o17 }} ${{ 017 }} ${{ 0b101 }} ${{ 1_000 }}',
        '31 15 15 5 1000',
      ],
      ['floats', '${{ 1.5 }} ${{ .5 }} ${{ 2.50 }} ${{ 0x1p4 }} ${{ 1.0 }}', '1.5 0.5 2.5 16 1'],
      ['booleans and nil', '${{ true }} ${{ false }} ${{ print nil }}', 'true false <nil>'],
    ])('%s', (_name, source, expected) => {
      expect(render(source)).toBe(expected);
    });
  });

  describe('every syntax error says where, with the offending token', () => {
    it.each([
      ['an unclosed action points at its "${{"', 'a\nb ${{ 1 ', 'unclosed-action', '2:3', '${{'],
      [
        'an action cut short by the next "${{"',
        '${{ 1 \n${{ 2 }}',
        'unclosed-action',
        '1:1',
        '${{',
      ],
      ['an if without end points at the if', 'x\n  ${{ if true }}y', 'unclosed-block', '2:3', 'if'],
      [
        'a range without end',
        '${{ range $x := repository.name }}',
        'unclosed-block',
        '1:1',
        'range',
      ],
      ['an end with nothing to close', 'ok ${{ end }}', 'syntax', '1:8', 'end'],
      ['an else with nothing before it', '${{ else }}', 'syntax', '1:5', 'else'],
      ['a second else', '${{ if true }}${{ else }}${{ else }}${{ end }}', 'syntax', '1:30', 'else'],
      [
        'else if after range',
        '${{ range 1 }}${{ else if true }}${{ end }}',
        'syntax',
        '1:24',
        'if',
      ],
      ['an if without a condition', '${{ if }}${{ end }}', 'syntax', '1:8', '}}'],
      ['break outside range', '${{ break }}', 'syntax', '1:5', 'break'],
      ['define is not supported', '${{ define "x" }}${{ end }}', 'unsupported', '1:5', 'define'],
      ['template is not supported', '${{ template "x" }}', 'unsupported', '1:5', 'template'],
      ['an unterminated string', 'abc ${{ "abc }}', 'syntax', '1:9', '"abc }}'],
      ['an unterminated raw string', '${{ `abc }}', 'syntax', '1:5', '`'],
      ['a string with an unknown escape', '${{ "\\q" }}', 'syntax', '1:5', '"\\q"'],
      ['a malformed character constant', "${{ 'ab' }}", 'syntax', '1:5', "'ab'"],
      ['a bad number', '${{ 1x }}', 'syntax', '1:5', '1x'],
      ['a prefix without digits', '${{ 0x }}', 'syntax', '1:5', '0x'],
      ['a legacy octal number with 8 or 9 in it', '${{ 089 }}', 'syntax', '1:5', '089'],
      ['complex numbers', '${{ 1i }}', 'syntax', '1:5', '1i'],
      ['an unclosed left paren', '${{ print (1 }}', 'syntax', '1:11', '('],
      ['an unexpected right paren', '${{ 1) }}', 'syntax', '1:6', ')'],
      ['":" without "="', '${{ $x:1 }}', 'syntax', '1:7', ':'],
      ['a bad character after a name', '${{ .a+1 }}', 'syntax', '1:7', '+'],
      ['a curly quote', '${{ “x” }}', 'syntax', '1:5', '“'],
      ['a comment that does not end its action', '${{/* c */ 1 }}', 'syntax', '1:1', '${{'],
      ['an unclosed comment', '${{/* c }}', 'syntax', '1:4', '/*'],
      ['a comment after a space is not a comment', '${{ /* c */ }}', 'syntax', '1:5', '/'],
      ['a pipe with nothing before it', '${{ | 1 }}', 'syntax', '1:5', '|'],
      ['a constant after a pipe', '${{ 1 | 2 }}', 'syntax', '1:9', '2'],
      ['operands not separated by space', '${{ "a""b" }}', 'syntax', '1:8', '"b"'],
      ['a field of a constant', '${{ "a".b }}', 'syntax', '1:8', '.b'],
      ['a declaration without a value', '${{ $x := }}', 'syntax', '1:5', '$x'],
      ['two variables outside range', '${{ if $a, $b := 1 }}${{ end }}', 'syntax', '1:10', ','],
      ['three variables in range', '${{ range $i, $x, $y := 1 }}${{ end }}', 'syntax', '1:17', ','],
      [
        'an unknown function or namespace, with a suggestion',
        '${{ repo.name }}',
        'unknown-name',
        '1:5',
        'repo',
      ],
      ['an undefined variable', '${{ $x }}', 'undefined-variable', '1:5', '$x'],
      ['assigning an undeclared variable', '${{ $x = 1 }}', 'undefined-variable', '1:5', '$x'],
      [
        'a variable used after its block',
        '${{ if true }}${{ $x := 1 }}${{ end }}${{ $x }}',
        'undefined-variable',
        '1:43',
        '$x',
      ],
      [
        'a variable used in its own declaration',
        '${{ $x := $x }}',
        'undefined-variable',
        '1:11',
        '$x',
      ],
      [
        'a field named constructor',
        '${{ repository.constructor }}',
        'forbidden-name',
        '1:15',
        '.constructor',
      ],
      ['a field named __proto__', '${{ .__proto__ }}', 'forbidden-name', '1:5', '.__proto__'],
      ['a field named prototype', '${{ $.a.prototype }}', 'forbidden-name', '1:8', '.prototype'],
      [
        'positions count lines and columns',
        'line one\nline two ${{ nope }}',
        'unknown-name',
        '2:14',
        'nope',
      ],
    ])('%s', (_name, source, code, at, token) => {
      const error = failure(source);
      expect({ code: error.code, at: error.at, token: error.token }).toEqual({ code, at, token });
      expect(error.message).toMatch(new RegExp(`^line ${at.replace(':', ', column ')}: `));
    });

    it('suggests the namespace a misspelt name was meant to be', () => {
      expect(failure('${{ repo.name }}').message).toContain('did you mean "repository"?');
      expect(failure('${{ previous_stp.stdout }}').message).toContain(
        'did you mean "previous_step"?',
      );
      expect(failure('${{ jion steps.modified_files " " }}').message).toContain(
        'did you mean "join"?',
      );
    });

    it('keeps the detail apart from the position, for callers that add their own', () => {
      try {
        parseTemplate('${{ $nope }}');
        throw new Error('expected a TemplateError');
      } catch (error) {
        expect(error).toBeInstanceOf(TemplateError);
        const templateError = error as TemplateError;
        expect(templateError.detail).toBe('undefined variable "$nope"');
        expect(templateError.message).toBe('line 1, column 5: undefined variable "$nope"');
        expect(templateError.position).toEqual({ line: 1, column: 5 });
        expect(templateError.offset).toBe(4);
      }
    });
  });

  describe('variables are scoped as in Go', () => {
    it.each([
      ['a declaration prints nothing', '${{ $x := 5 }}', ''],
      ['redeclaring shadows', '${{ $x := 1 }}${{ $x := 2 }}${{ $x }}', '2'],
      [
        'assignment reaches out of a block',
        '${{ $x := 1 }}${{ if true }}${{ $x = 2 }}${{ end }}${{ $x }}',
        '2',
      ],
      [
        'a declaration inside a block ends with it',
        '${{ $x := 1 }}${{ with 2 }}${{ $x := . }}${{ $x }}${{ end }}${{ $x }}',
        '21',
      ],
      [
        'variables of an if reach its else',
        '${{ if $x := 0 }}yes${{ else }}${{ $x }}${{ end }}',
        '0',
      ],
      ['"$" is the data', '${{ $.a.b }}', 'B'],
    ])('%s', (_name, source, expected) => {
      expect(render(source, { a: { b: 'B' } })).toBe(expected);
    });
  });

  it('isTemplated is true exactly when the text contains "${{"', () => {
    expect(isTemplated('echo ${{ repository.name }}')).toBe(true);
    expect(isTemplated('echo ${HOME} {{ not ours }}')).toBe(false);
    expect(isTemplated('${{')).toBe(true);
  });

  it('keeps the source on the parsed template', () => {
    expect(parseTemplate('a ${{ 1 }}').source).toBe('a ${{ 1 }}');
  });
});
