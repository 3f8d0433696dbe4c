/**
 * Go literal syntax for template constants: interpreted strings with Go escapes, raw strings,
 * character constants and numbers. Each function returns a value or a reason it is invalid.
 */

export type LiteralResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

interface Escape {
  /** A code point, or a single byte when `isByte` (from `\x` and octal escapes, as in Go). */
  value: number;
  isByte: boolean;
  length: number;
}

function readEscape(text: string, at: number, quote: '"' | "'"): Escape | string {
  const kind = text[at + 1];
  if (kind === undefined) return 'a backslash at the end';
  if (Object.prototype.hasOwnProperty.call(SIMPLE_ESCAPES, kind)) {
    return { value: SIMPLE_ESCAPES[kind].codePointAt(0) ?? 0, isByte: false, length: 2 };
  }
  if (kind === quote) return { value: quote.codePointAt(0) ?? 0, isByte: false, length: 2 };
  const hex = (count: number): number | undefined => {
    const digits = text.slice(at + 2, at + 2 + count);
    return digits.length === count && /^[0-9a-fA-F]+$/.test(digits)
      ? parseInt(digits, 16)
      : undefined;
  };
  switch (kind) {
    case 'x': {
      const value = hex(2);
      return value === undefined
        ? 'a \\x escape needs two hex digits'
        : { value, isByte: true, length: 4 };
    }
    case 'u':
    case 'U': {
      const count = kind === 'u' ? 4 : 8;
      const value = hex(count);
      if (value === undefined) return `a \\${kind} escape needs ${count} hex digits`;
      if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
        return `\\${kind}${text.slice(at + 2, at + 2 + count)} is not a valid Unicode code point`;
      }
      return { value, isByte: false, length: 2 + count };
    }
  }
  if (kind >= '0' && kind <= '7') {
    const digits = text.slice(at + 1, at + 4);
    if (!/^[0-7]{3}$/.test(digits)) return 'an octal escape needs three octal digits';
    const value = parseInt(digits, 8);
    if (value > 255) return `octal escape \\${digits} is larger than 255`;
    return { value, isByte: true, length: 4 };
  }
  return `unknown escape sequence \\${kind}`;
}

const utf8Decoder = new TextDecoder('utf-8');

/** An interpreted string literal, quotes included, as Go's strconv.Unquote reads it. */
export function unquoteString(text: string): LiteralResult<string> {
  let result = '';
  let bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length > 0) {
      result += utf8Decoder.decode(new Uint8Array(bytes));
      bytes = [];
    }
  };
  const end = text.length - 1;
  let at = 1;
  while (at < end) {
    const char = text[at];
    if (char !== '\\') {
      flushBytes();
      const next = text.indexOf('\\', at);
      const stop = next < 0 || next > end ? end : next;
      result += text.slice(at, stop);
      at = stop;
      continue;
    }
    const escape = readEscape(text, at, '"');
    if (typeof escape === 'string') return { ok: false, reason: escape };
    if (escape.isByte) {
      bytes.push(escape.value);
    } else {
      flushBytes();
      result += String.fromCodePoint(escape.value);
    }
    at += escape.length;
  }
  flushBytes();
  return { ok: true, value: result };
}

/** A raw string literal, backquotes included; carriage returns are dropped as in Go. */
export function unquoteRawString(text: string): string {
  return text.slice(1, -1).replaceAll('\r', '');
}

/** A character constant such as `'a'` or `'\n'`, whose value is its code point. */
export function unquoteCharConstant(text: string): LiteralResult<number> {
  const body = text.slice(1, -1);
  if (body.length === 0) return { ok: false, reason: 'empty character constant' };
  let value: number;
  let length: number;
  if (body[0] === '\\') {
    const escape = readEscape(body, 0, "'");
    if (typeof escape === 'string') return { ok: false, reason: escape };
    value = escape.value;
    length = escape.length;
  } else {
    value = body.codePointAt(0) ?? 0;
    length = value > 0xffff ? 2 : 1;
  }
  if (length !== body.length)
    return { ok: false, reason: 'more than one character in a character constant' };
  return { ok: true, value };
}

const DECIMAL_INT = /^[1-9](_?[0-9])*$/;
const LEGACY_OCTAL_INT = /^0(_?[0-7])*$/;
const PREFIXED_INT: ReadonlyArray<[RegExp, number]> = [
  [/^0[xX](_?[0-9a-fA-F])+$/, 16],
  [/^0[oO](_?[0-7])+$/, 8],
  [/^0[bB](_?[01])+$/, 2],
];
const DECIMAL_FLOAT =
  /^(?=\.?[0-9])([0-9](_?[0-9])*)?(\.([0-9](_?[0-9])*)?)?([eE][+-]?[0-9](_?[0-9])*)?$/;
const HEX_FLOAT =
  /^0[xX](?=\.?[0-9a-fA-F])((?:_?[0-9a-fA-F])*)(?:\.([0-9a-fA-F](?:_?[0-9a-fA-F])*)?)?[pP]([+-]?[0-9](?:_?[0-9])*)$/;

/** A number constant: Go integer syntax (decimal, 0x, 0o, 0b, legacy octal, `_` separators) or float syntax. */
export function parseNumber(text: string): LiteralResult<number> {
  if (text.endsWith('i')) return { ok: false, reason: 'complex numbers are not supported' };
  let sign = 1;
  let body = text;
  if (body.startsWith('+') || body.startsWith('-')) {
    sign = body.startsWith('-') ? -1 : 1;
    body = body.slice(1);
  }
  const digitsOnly = (s: string): string => s.replaceAll('_', '');
  let value: number | undefined;
  let isInteger = true;
  for (const [pattern, base] of PREFIXED_INT) {
    if (pattern.test(body)) value = parseBigInt(digitsOnly(body.slice(2)), base);
  }
  if (value === undefined && DECIMAL_INT.test(body)) value = parseBigInt(digitsOnly(body), 10);
  if (value === undefined && LEGACY_OCTAL_INT.test(body))
    value = parseBigInt(digitsOnly(body) || '0', 8);
  if (value === undefined && /^0[0-9_]+$/.test(body)) {
    return {
      ok: false,
      reason: `illegal number syntax: ${text} (a leading 0 makes an octal number)`,
    };
  }
  if (value === undefined && DECIMAL_FLOAT.test(body)) {
    value = Number(digitsOnly(body));
    isInteger = false;
  }
  if (value === undefined) {
    const hexFloat = HEX_FLOAT.exec(body);
    if (hexFloat) {
      const whole = digitsOnly(hexFloat[1] ?? '');
      const fraction = digitsOnly(hexFloat[2] ?? '');
      const mantissa = parseInt(`${whole}${fraction}` || '0', 16);
      value = mantissa * 2 ** (Number(digitsOnly(hexFloat[3])) - 4 * fraction.length);
      isInteger = false;
    }
  }
  if (value === undefined || Number.isNaN(value))
    return { ok: false, reason: `illegal number syntax: ${text}` };
  if (!Number.isFinite(value) || (isInteger && !Number.isSafeInteger(value))) {
    return { ok: false, reason: `number ${text} is too large (integers must be within ±2^53)` };
  }
  return { ok: true, value: sign * value };
}

function parseBigInt(digits: string, base: number): number {
  let value = 0n;
  const bigBase = BigInt(base);
  for (const digit of digits) value = value * bigBase + BigInt(parseInt(digit, base));
  return Number(value);
}
