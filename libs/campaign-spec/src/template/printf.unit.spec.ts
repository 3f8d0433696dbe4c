import { describe, expect, it } from '@jest/globals';
import { failure, render } from './test-support/render.js';

describe('printf follows Go fmt', () => {
  // Expected strings are what Go's own text/template printed for the same templates.
  it.each([
    [
      'basic verbs',
      '${{ printf "%s|%d|%v|%q|%t|%%" "s" 42 1.5 "q\\"" true }}',
      's|42|1.5|"q\\""|true|%',
    ],
    [
      '%f with width, precision and flags',
      '${{ printf "%f|%.2f|%8.3f|%-8.3f|%08.3f|%+.1f" 3.14159 3.14159 3.14159 3.14159 -3.14159 2.0 }}',
      '3.141590|3.14|   3.142|3.142   |-003.142|+2.0',
    ],
    [
      '%e',
      '${{ printf "%e|%E|%.0e|%+.2e|%e" 1234.5678 0.000012345 5.0 12345.678 1e300 }}',
      '1.234568e+03|1.234500E-05|5e+00|+1.23e+04|1.000000e+300',
    ],
    [
      '%g switches to exponent form like Go',
      '${{ printf "%g|%g|%g|%g|%.3g|%.3g|%G|%g" 100000.0 1000000.0 0.0001 0.00001 1234.5 0.000012345 1e-10 1e21 }}',
      '100000|1e+06|0.0001|1e-05|1.23e+03|1.23e-05|1E-10|1e+21',
    ],
    [
      'rounding is half to even on the exact binary value',
      '${{ printf "%.0f %.0f %.0f %.1f %.2f %.3f" 0.5 1.5 2.5 0.25 0.125 1.0005 }}',
      '0 2 2 0.2 0.12 1.000',
    ],
    [
      'rounding of values that are not exact in binary',
      '${{ printf "%.1f|%.2f|%.10f|%.20f" 0.05 1.005 0.1 0.1 }}',
      '0.1|1.00|0.1000000000|0.10000000000000000555',
    ],
    [
      'integers in other bases',
      '${{ printf "%x|%X|%o|%O|%b|%#x|%#X|%#o|%#b" 255 255 8 8 5 255 255 8 5 }}',
      'ff|FF|10|0o10|101|0xff|0XFF|010|0b101',
    ],
    [
      'hex floats',
      '${{ printf "%x|%X|%.2x|%.0x|%x" 1.5 -0.1 3.14159 1.5 1e-310 }}',
      '0x1.8p+00|-0X1.999999999999AP-04|0x1.92p+01|0x1p+01|0x1.2688b70e62bp-1030',
    ],
    [
      'integer widths, precisions and signs',
      '${{ printf "[%5d][%-5d][%05d][%+d][% d][%.3d][%.0d][%6.3d][%3d][%-3d][%03d]" 42 42 42 42 42 7 0 7 -5 -5 -5 }}',
      '[   42][42   ][00042][+42][ 42][007][][   007][ -5][-5 ][-05]',
    ],
    [
      'string widths and precisions count characters',
      '${{ printf "[%5s][%-5s][%05s][%.2s][%5.1s][%.3s]" "ab" "ab" "ab" "abcdef" "héllo" "日本語日本語" }}',
      '[   ab][ab   ][000ab][ab][    h][日本語]',
    ],
    [
      'characters and code points',
      '${{ printf "%c%c|%U|%#U|%q" 65 0x1F600 0x1F600 65 65 }}',
      "A😀|U+1F600|U+0041 'A'|'A'",
    ],
    [
      'hex of strings',
      '${{ printf "%x|% x|%#x|% #x|%X|%.2x" "héllo" "hi" "hi" "hi" "hi" "hello" }}',
      '68c3a96c6c6f|68 69|0x6869|0x68 0x69|6869|6865',
    ],
    [
      'quoting like strconv.Quote',
      '${{ printf "%q|%+q|%#q|%#q|%q|%q|%q" "é\\n\\u0001" "é" "back" "has`tick" "\\x7f" "\\u00a0" "\\U0001F600" }}',
      '"é\\n\\x01"|"\\u00e9"|`back`|"has`tick"|"\\x7f"|"\\u00a0"|"😀"',
    ],
    [
      'padding of quoted and hex strings',
      '${{ printf "[%-8q][%8x][%-8X][%.1q][%5q]" "a" "ab" "ab" "héllo" "a" }}',
      '["a"     ][    6162][6162    ]["h"][  "a"]',
    ],
    [
      'booleans and characters padded',
      '${{ printf "%5t|%-7v|%3c|" true false 65 }}',
      ' true|false  |  A|',
    ],
    [
      '%v with a precision on floats',
      '${{ printf "%6.2v|%.3v|%10v|" 3.14159 3.14159 "x" }}',
      '   3.1|3.14|         x|',
    ],
    ['%T', '${{ printf "%T %T %T %T %T" 1 1.5 "s" true nil }}', 'int float64 string bool <nil>'],
    [
      "Go's in-band errors: wrong type, missing, extra, no verb, bad verb, nil",
      '${{ printf "%d %s" "x" 5 }}|${{ printf "%d %d" 1 }}|${{ printf "%d" 1 2 "x" }}|${{ printf "%" }}|${{ printf "%z" 1 }}|${{ printf "%t %v %s" 1 nil nil }}',
      '%!d(string=x) %!s(int=5)|1 %!d(MISSING)|1%!(EXTRA int=2, string=x)|%!(NOVERB)|%!z(int=1)|%!t(int=1) <nil> %!s(<nil>)',
    ],
    [
      'widths from arguments and explicit argument indexes',
      '${{ printf "%*d|%-*d|%*d" 4 7 4 7 "x" 5 }}|${{ printf "%.*f" 2 3.14159 }}|${{ printf "%[2]s %[1]s" "a" "b" }}|${{ printf "%[3]s" 1 }}|${{ printf "%[2]*[1]d" 12 5 }}',
      '   7|7   |%!(BADWIDTH)5|3.14|b a|%!s(BADINDEX)|   12',
    ],
    [
      'widths past a million are refused as in Go',
      '${{ printf "%99999999d" 1 }}|${{ printf "%.99999999f" 1.5 }}',
      '%!(NOVERB)%!(EXTRA int=1)|%!(NOVERB)%!(EXTRA float64=1.5)',
    ],
    [
      'zero padding keeps the sign first',
      '${{ printf "%010.3f|%-010.3f|%+010d|% 05d" -3.14159 3.14159 42 42 }}',
      '-00003.142|3.142     |+000000042| 0042',
    ],
    [
      'huge integral numbers are floats',
      '${{ printf "%v|%s|%5.1f" 1e21 1e21 99.95 }}%',
      '1e+21|%!s(float64=1e+21)|100.0%',
    ],
    ['lists format item by item', '${{ printf "%s %d" (split "a b" " ") (len "ab") }}', '[a b] 2'],
  ])('%s', (_name, source, expected) => {
    expect(render(source)).toBe(expected);
  });

  it('formats data items the way it formats constants', () => {
    const data = { m: { b: [1, 2], a: 'x' }, l: [1, 2], s: ['a', 'b'], n: { a: null } };
    expect(render('${{ printf "%v|%d|%s|%q|%s" .m .l .s .s .n }}', data)).toBe(
      'map[a:x b:[1 2]]|[1 2]|[a b]|["a" "b"]|map[a:<nil>]',
    );
  });

  it('treats a missing key as an empty string', () => {
    expect(
      render('[${{ printf "%s" repository.nothing }}][${{ print repository.nothing 1 }}]', {
        repository: {},
      }),
    ).toBe('[][1]');
  });

  it('cannot be made to produce more than the output limit', () => {
    expect(render('${{ printf "%1000000d" 1 }}').length).toBe(1_000_000);
    expect(failure('${{ printf "%1000000d" 1 }}', {}, { maxOutputBytes: 1000 })).toMatchObject({
      code: 'output-limit',
      at: '1:5',
    });
  });
});
