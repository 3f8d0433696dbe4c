import { kindOf, mapGet, mapKeys, NO_VALUE, type TemplateMap } from './values.js';

/**
 * Go's fmt for template values: `%v` printing (what an action outputs), `print`, `println` and
 * `printf` with the verbs that matter in specs. Numbers are a single kind here: integral values
 * print like Go ints, others like float64.
 */

/** Thrown when formatting would produce more than the allowed amount of text. */
export class FormatBudgetExceeded extends Error {
  constructor() {
    super('formatted text exceeds its budget');
  }
}

/** Thrown when a value nests deeper than MAX_VALUE_DEPTH (or refers to itself). */
export class ValueTooDeep extends Error {
  constructor() {
    super('value nests too deeply');
  }
}

export const MAX_VALUE_DEPTH = 1000;

export interface FormatContext {
  /** Lists that print as their items separated by spaces, like Sourcegraph's search_result_paths. */
  isSpaceJoined(list: readonly unknown[]): boolean;
  /** Most UTF-16 code units one formatting call may produce. */
  readonly budget: number;
}

/** Collects output and stops as soon as it grows past its budget. */
class BoundedText {
  private readonly parts: string[] = [];
  private length = 0;

  constructor(private readonly budget: number) {}

  write(text: string): void {
    this.length += text.length;
    if (this.length > this.budget) throw new FormatBudgetExceeded();
    this.parts.push(text);
  }

  toString(): string {
    return this.parts.join('');
  }
}

/** How an action prints its value: Go's `%v`, except that no value prints as nothing. */
export function formatValue(value: unknown, context: FormatContext): string {
  // Go prints `<no value>` for a missing key or a nil field; we print nothing for both.
  if (value === NO_VALUE || value === undefined || value === null) return '';
  const buffer = new BoundedText(context.budget);
  new Printer(buffer, context).printValue(value, 'v', noFlags(), 0);
  return buffer.toString();
}

/** Go's fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: readonly unknown[], context: FormatContext): string {
  const buffer = new BoundedText(context.budget);
  const printer = new Printer(buffer, context);
  let previousIsString = false;
  args.forEach((arg, index) => {
    const isString = typeof arg === 'string' || arg === NO_VALUE;
    if (index > 0 && !isString && !previousIsString) buffer.write(' ');
    printer.printArgument(arg, 'v', noFlags(), 0);
    previousIsString = isString;
  });
  return buffer.toString();
}

/** Go's fmt.Sprintln: spaces between all operands and a newline at the end. */
export function sprintln(args: readonly unknown[], context: FormatContext): string {
  const buffer = new BoundedText(context.budget);
  const printer = new Printer(buffer, context);
  args.forEach((arg, index) => {
    if (index > 0) buffer.write(' ');
    printer.printArgument(arg, 'v', noFlags(), 0);
  });
  buffer.write('\n');
  return buffer.toString();
}

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  precision: number | undefined;
}

function noFlags(): Flags {
  return {
    plus: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    width: undefined,
    precision: undefined,
  };
}

/** Go's limit on widths and precisions written in a format. */
const TOO_LARGE = 1e6;

/** Go's fmt.Sprintf, including its in-band errors such as `%!d(string=x)` and `%!v(MISSING)`. */
export function sprintf(format: string, args: readonly unknown[], context: FormatContext): string {
  const buffer = new BoundedText(context.budget);
  const printer = new Printer(buffer, context);
  const end = format.length;
  let argNumber = 0;
  let reordered = false;
  let i = 0;
  while (i < end) {
    const percent = format.indexOf('%', i);
    const textEnd = percent < 0 ? end : percent;
    if (textEnd > i) buffer.write(format.slice(i, textEnd));
    if (percent < 0) break;
    i = percent + 1;

    const flags = noFlags();
    flagLoop: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          flags.sharp = true;
          break;
        case '0':
          flags.zero = !flags.minus;
          break;
        case '+':
          flags.plus = true;
          break;
        case '-':
          flags.minus = true;
          flags.zero = false;
          break;
        case ' ':
          flags.space = true;
          break;
        default:
          break flagLoop;
      }
    }

    let goodArgNumber = true;
    const readArgIndex = (): boolean => {
      if (format[i] !== '[') return false;
      reordered = true;
      const close = format.indexOf(']', i);
      const digits = close < 0 ? '' : format.slice(i + 1, close);
      if (
        close < 0 ||
        !/^[0-9]+$/.test(digits) ||
        Number(digits) < 1 ||
        Number(digits) > args.length
      ) {
        goodArgNumber = false;
        i = close < 0 ? end : close + 1;
        return true;
      }
      argNumber = Number(digits) - 1;
      i = close + 1;
      return true;
    };

    let afterIndex = readArgIndex();
    if (format[i] === '*') {
      i += 1;
      const width = intArgument(args, argNumber);
      if (argNumber < args.length) argNumber += 1;
      if (width === undefined) buffer.write('%!(BADWIDTH)');
      else if (width < 0) {
        flags.minus = true;
        flags.zero = false;
        flags.width = -width;
      } else flags.width = width;
      afterIndex = false;
    } else {
      const parsed = parseDigits(format, i);
      if (parsed.overflow) i = end;
      else {
        if (parsed.value !== undefined) flags.width = parsed.value;
        i = parsed.next;
      }
      if (afterIndex && flags.width !== undefined) goodArgNumber = false;
    }

    if (format[i] === '.') {
      i += 1;
      if (afterIndex) goodArgNumber = false;
      afterIndex = readArgIndex();
      if (format[i] === '*') {
        i += 1;
        const precision = intArgument(args, argNumber);
        if (argNumber < args.length) argNumber += 1;
        if (precision === undefined) buffer.write('%!(BADPREC)');
        else if (precision >= 0) flags.precision = precision;
        afterIndex = false;
      } else {
        const parsed = parseDigits(format, i);
        if (parsed.overflow) i = end;
        else {
          flags.precision = parsed.value ?? 0;
          i = parsed.next;
        }
      }
    }
    if (!afterIndex) afterIndex = readArgIndex();

    if (i >= end) {
      buffer.write('%!(NOVERB)');
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;

    if (verb === '%') {
      buffer.write('%');
    } else if (!goodArgNumber) {
      buffer.write(`%!${verb}(BADINDEX)`);
    } else if (argNumber >= args.length) {
      buffer.write(`%!${verb}(MISSING)`);
    } else {
      printer.printArgument(args[argNumber], verb, flags, 0);
      argNumber += 1;
    }
  }
  if (!reordered && argNumber < args.length) {
    buffer.write('%!(EXTRA ');
    args.slice(argNumber).forEach((arg, index) => {
      if (index > 0) buffer.write(', ');
      if (arg === null || arg === NO_VALUE) buffer.write('<nil>');
      else {
        buffer.write(`${goTypeName(arg)}=`);
        printer.printArgument(arg, 'v', noFlags(), 0);
      }
    });
    buffer.write(')');
  }
  return buffer.toString();
}

function parseDigits(
  format: string,
  start: number,
): { value?: number; next: number; overflow: boolean } {
  let value: number | undefined;
  let at = start;
  while (at < format.length && format[at] >= '0' && format[at] <= '9') {
    if (value !== undefined && value > TOO_LARGE) return { next: format.length, overflow: true };
    value = (value ?? 0) * 10 + Number(format[at]);
    at += 1;
  }
  return { value, next: at, overflow: false };
}

function intArgument(args: readonly unknown[], index: number): number | undefined {
  const arg = args[index];
  if (typeof arg !== 'number' || !Number.isInteger(arg) || Math.abs(arg) > TOO_LARGE)
    return undefined;
  return arg;
}

/** Go's name of a value's dynamic type, as `%T` and the `%!verb(type=value)` errors show it. */
export function goTypeName(value: unknown): string {
  switch (kindOf(value)) {
    case 'string':
      return 'string';
    case 'number':
      return Number.isSafeInteger(value) ? 'int' : 'float64';
    case 'bool':
      return 'bool';
    case 'list':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    case 'missing':
      return 'string';
    default:
      return '<nil>';
  }
}

class Printer {
  constructor(
    private readonly buffer: BoundedText,
    private readonly context: FormatContext,
  ) {}

  /** One operand of print/printf: no value is the empty string. */
  printArgument(arg: unknown, verb: string, flags: Flags, depth: number): void {
    this.printValue(arg === NO_VALUE || arg === undefined ? '' : arg, verb, flags, depth);
  }

  printValue(value: unknown, verb: string, flags: Flags, depth: number): void {
    if (depth > MAX_VALUE_DEPTH) throw new ValueTooDeep();
    if (verb === 'T') {
      this.pad(goTypeName(value), flags);
      return;
    }
    const kind = kindOf(value);
    switch (kind) {
      case 'nil':
      case 'missing':
        // Inside lists and maps Go prints nil as <nil> whatever the verb.
        if (verb === 'v' || depth > 0) this.pad('<nil>', flags);
        else this.buffer.write(`%!${verb}(<nil>)`);
        return;
      case 'bool':
        if (verb === 'v' || verb === 't') this.pad(value ? 'true' : 'false', flags);
        else this.badVerb(verb, value);
        return;
      case 'number':
        this.printNumber(value as number, verb, flags);
        return;
      case 'string':
        this.printString(value as string, verb, flags);
        return;
      case 'list': {
        const list = value as readonly unknown[];
        if (this.context.isSpaceJoined(list) && 'vsxXq'.includes(verb)) {
          this.printString(joinedPaths(list), verb, flags);
          return;
        }
        this.buffer.write('[');
        list.forEach((item, index) => {
          if (index > 0) this.buffer.write(' ');
          this.printValue(item === undefined ? null : item, verb, flags, depth + 1);
        });
        this.buffer.write(']');
        return;
      }
      case 'map': {
        const map = value as TemplateMap;
        this.buffer.write('map[');
        mapKeys(map).forEach((key, index) => {
          if (index > 0) this.buffer.write(' ');
          this.printValue(key, verb, flags, depth + 1);
          this.buffer.write(':');
          const item = mapGet(map, key);
          this.printValue(item === NO_VALUE ? null : item, verb, flags, depth + 1);
        });
        this.buffer.write(']');
        return;
      }
    }
  }

  private badVerb(verb: string, value: unknown): void {
    this.buffer.write(`%!${verb}(${goTypeName(value)}=`);
    this.printValue(value, 'v', noFlags(), 0);
    this.buffer.write(')');
  }

  /** Pads to the width, counted in characters as Go counts runes. */
  private pad(text: string, flags: Flags): void {
    if (flags.width === undefined) {
      this.buffer.write(text);
      return;
    }
    const missing = flags.width - runeCount(text);
    if (missing <= 0) {
      this.buffer.write(text);
      return;
    }
    const padding = (flags.zero && !flags.minus ? '0' : ' ').repeat(
      Math.min(missing, this.context.budget + 1),
    );
    this.buffer.write(flags.minus ? text + padding : padding + text);
  }

  private printString(text: string, verb: string, flags: Flags): void {
    const truncated = flags.precision === undefined ? text : truncateRunes(text, flags.precision);
    switch (verb) {
      case 'v':
      case 's':
        this.pad(truncated, flags);
        return;
      case 'q':
        this.pad(
          flags.sharp && canBackquote(truncated)
            ? `\`${truncated}\``
            : quoteGo(truncated, '"', flags.plus),
          flags,
        );
        return;
      case 'x':
      case 'X':
        this.pad(hexBytes(text, flags, verb === 'X'), flags);
        return;
      default:
        this.badVerb(verb, text);
    }
  }

  private printNumber(value: number, verb: string, flags: Flags): void {
    // Integral numbers behave as Go ints; others (and huge ones) as float64.
    const integral = Number.isSafeInteger(value);
    if (verb === 'v') {
      if (integral) this.printInteger(value, 'd', flags);
      else this.printFloat(value, 'g', flags, flags.precision ?? -1);
      return;
    }
    if ((verb === 'x' || verb === 'X') && !integral) {
      let text = hexFloat(value, flags.precision ?? -1);
      if (verb === 'X') text = text.toUpperCase();
      const sign = text.startsWith('-') ? '' : flags.plus ? '+' : flags.space ? ' ' : '';
      this.pad(sign + text, flags);
      return;
    }
    if ('eEfFgG'.includes(verb)) {
      const shortest = verb === 'g' || verb === 'G' ? -1 : 6;
      this.printFloat(value, verb, flags, flags.precision ?? shortest);
      return;
    }
    if (integral && 'dboOxXcqU'.includes(verb)) {
      this.printInteger(value, verb, flags);
      return;
    }
    this.badVerb(verb, value);
  }

  private printInteger(value: number, verb: string, flags: Flags): void {
    const big = BigInt(value);
    const negative = big < 0n;
    const magnitude = negative ? -big : big;
    switch (verb) {
      case 'c':
        this.pad(runeString(value), flags);
        return;
      case 'q':
        this.pad(quoteGo(runeString(value), "'", flags.plus), flags);
        return;
      case 'U': {
        const hex = magnitude.toString(16).toUpperCase().padStart(4, '0');
        const rune = flags.sharp && isPrintable(value) ? ` '${runeString(value)}'` : '';
        this.pad(`${negative ? '-' : ''}U+${hex}${rune}`, flags);
        return;
      }
    }
    const base = { d: 10, b: 2, o: 8, O: 8, x: 16, X: 16 }[verb] ?? 10;
    let digits = magnitude.toString(base);
    if (verb === 'X') digits = digits.toUpperCase();
    let precision = 0;
    if (flags.precision !== undefined) {
      precision = flags.precision;
      if (precision === 0 && magnitude === 0n) {
        this.pad('', { ...flags, zero: false });
        return;
      }
    } else if (flags.zero && !flags.minus && flags.width !== undefined) {
      precision = flags.width;
      if (negative || flags.plus || flags.space) precision -= 1;
    }
    if (digits.length < precision)
      digits = '0'.repeat(Math.min(precision - digits.length, TOO_LARGE)) + digits;
    if (flags.sharp) {
      if (verb === 'o' && !digits.startsWith('0')) digits = `0${digits}`;
      if (verb === 'x') digits = `0x${digits}`;
      if (verb === 'X') digits = `0X${digits}`;
      if (verb === 'b') digits = `0b${digits}`;
    }
    if (verb === 'O') digits = `0o${digits}`;
    const sign = negative ? '-' : flags.plus ? '+' : flags.space ? ' ' : '';
    this.pad(sign + digits, { ...flags, zero: false });
  }

  private printFloat(value: number, verb: string, flags: Flags, precision: number): void {
    let text = formatFloat(value, verb.toLowerCase() as 'e' | 'f' | 'g', precision);
    if (verb === 'E' || verb === 'G') text = text.toUpperCase();
    if (!Number.isFinite(value)) {
      const sign = value > 0 ? (flags.plus ? '+' : flags.space ? ' ' : '') : '';
      this.pad(
        Number.isNaN(value) ? (flags.plus ? '+NaN' : flags.space ? ' NaN' : 'NaN') : sign + text,
        {
          ...flags,
          zero: false,
        },
      );
      return;
    }
    const negative = text.startsWith('-');
    const unsigned = negative ? text.slice(1) : text;
    const sign = negative ? '-' : flags.plus ? '+' : flags.space ? ' ' : '';
    if (sign !== '' && flags.zero && !flags.minus && flags.width !== undefined) {
      const missing = flags.width - sign.length - unsigned.length;
      if (missing > 0) {
        this.buffer.write(sign + '0'.repeat(Math.min(missing, this.context.budget + 1)) + unsigned);
        return;
      }
    }
    this.pad(sign + unsigned, flags);
  }
}

function joinedPaths(list: readonly unknown[]): string {
  return list.map((item) => (typeof item === 'string' ? item : '')).join(' ');
}

function runeCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdbff) count += 1;
  }
  return count;
}

function truncateRunes(text: string, runes: number): string {
  let taken = 0;
  let at = 0;
  while (at < text.length && taken < runes) {
    const code = text.codePointAt(at) ?? 0;
    at += code > 0xffff ? 2 : 1;
    taken += 1;
  }
  return text.slice(0, at);
}

function runeString(value: number): string {
  const valid = value >= 0 && value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff);
  return String.fromCodePoint(valid ? value : 0xfffd);
}

const utf8Encoder = new TextEncoder();

function hexBytes(text: string, flags: Flags, upper: boolean): string {
  let bytes = utf8Encoder.encode(text);
  if (flags.precision !== undefined) bytes = bytes.slice(0, flags.precision);
  const digits = (byte: number): string => {
    const hex = byte.toString(16).padStart(2, '0');
    return upper ? hex.toUpperCase() : hex;
  };
  const prefix = upper ? '0X' : '0x';
  if (flags.space) {
    return Array.from(bytes, (byte) => (flags.sharp ? prefix : '') + digits(byte)).join(' ');
  }
  return (flags.sharp && bytes.length > 0 ? prefix : '') + Array.from(bytes, digits).join('');
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function isPrintable(codePoint: number): boolean {
  return PRINTABLE.test(String.fromCodePoint(codePoint));
}

function canBackquote(text: string): boolean {
  for (const char of text) {
    if (char === '`' || char === '\ufeff') return false;
    const code = char.codePointAt(0) ?? 0;
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return false;
  }
  return true;
}

const NAMED_ESCAPES: Readonly<Record<number, string>> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
};

/** Go's strconv.Quote (or QuoteRune, QuoteToASCII): escapes what is not printable. */
export function quoteGo(text: string, quoteChar: '"' | "'", asciiOnly: boolean): string {
  let result = quoteChar;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === quoteChar || char === '\\') {
      result += `\\${char}`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      result += '\\ufffd';
    } else if (asciiOnly ? code < 0x80 && isPrintable(code) : isPrintable(code)) {
      result += char;
    } else if (NAMED_ESCAPES[code] !== undefined) {
      result += NAMED_ESCAPES[code];
    } else if (code < 0x20 || code === 0x7f) {
      result += `\\x${code.toString(16).padStart(2, '0')}`;
    } else if (code < 0x10000) {
      result += `\\u${code.toString(16).padStart(4, '0')}`;
    } else {
      result += `\\U${code.toString(16).padStart(8, '0')}`;
    }
  }
  return result + quoteChar;
}

// --- floats, digit for digit as Go's strconv -----------------------------------------------------

interface Decimal {
  /** Significant digits, no leading or trailing zeros; '' for zero. */
  digits: string;
  /** Position of the decimal point relative to the digits: value = 0.digits × 10^dp. */
  dp: number;
}

/** Go's strconv.FormatFloat for 'e', 'f' and 'g'; precision -1 means the shortest exact form. */
export function formatFloat(value: number, format: 'e' | 'f' | 'g', precision: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  const negative = value < 0 || Object.is(value, -0);
  let decimal: Decimal;
  let prec = precision;
  const shortest = precision < 0;
  if (shortest) {
    decimal = shortestDecimal(Math.abs(value));
    if (format === 'e') prec = Math.max(decimal.digits.length - 1, 0);
    else if (format === 'f') prec = Math.max(decimal.digits.length - decimal.dp, 0);
    else prec = decimal.digits.length;
  } else {
    decimal = exactDecimal(Math.abs(value));
    if (format === 'e') decimal = roundDecimal(decimal, prec + 1);
    else if (format === 'f') decimal = roundDecimal(decimal, decimal.dp + prec);
    else {
      if (prec === 0) prec = 1;
      decimal = roundDecimal(decimal, prec);
    }
  }
  const sign = negative ? '-' : '';
  if (format === 'e') return sign + formatE(decimal, prec);
  if (format === 'f') return sign + formatF(decimal, prec);
  let eprec = prec;
  const digitCount = decimal.digits.length;
  if (eprec > digitCount && digitCount >= decimal.dp) eprec = digitCount;
  if (shortest) eprec = 6;
  const exponent = decimal.dp - 1;
  if (exponent < -4 || exponent >= eprec) {
    return sign + formatE(decimal, Math.min(prec, digitCount) - 1);
  }
  return sign + formatF(decimal, Math.max((prec > decimal.dp ? digitCount : prec) - decimal.dp, 0));
}

function formatE(decimal: Decimal, prec: number): string {
  const { digits } = decimal;
  let text = digits[0] ?? '0';
  if (prec > 0) {
    const fraction = digits.slice(1, prec + 1);
    text += `.${fraction}${'0'.repeat(Math.max(prec - fraction.length, 0))}`;
  }
  const exponent = digits.length === 0 ? 0 : decimal.dp - 1;
  const magnitude = Math.abs(exponent);
  return `${text}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
}

function formatF(decimal: Decimal, prec: number): string {
  const { digits, dp } = decimal;
  let text: string;
  if (dp > 0) {
    const whole = digits.slice(0, dp);
    text = whole + '0'.repeat(dp - whole.length);
  } else {
    text = '0';
  }
  if (prec > 0) {
    let fraction = '';
    for (let i = 1; i <= prec; i++) {
      const j = dp + i - 1;
      fraction += j >= 0 && j < digits.length ? digits[j] : '0';
      if (j >= digits.length && j >= 0) {
        fraction += '0'.repeat(prec - i);
        break;
      }
    }
    text += `.${fraction}`;
  }
  return text;
}

/** The shortest digits that read back as the same double (JavaScript and Go agree on these). */
function shortestDecimal(value: number): Decimal {
  if (value === 0) return { digits: '', dp: 0 };
  const [mantissa, exponent] = value.toExponential().split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '');
  return { digits, dp: Number(exponent) + 1 };
}

/** Every digit of a double's exact binary value. */
function exactDecimal(value: number): Decimal {
  if (value === 0) return { digits: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent: number;
  if (exponentBits === 0) exponent = -1074;
  else {
    mantissa |= 1n << 52n;
    exponent = exponentBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (exponent >= 0) {
    digits = (mantissa << BigInt(exponent)).toString();
    dp = digits.length;
  } else {
    digits = (mantissa * 5n ** BigInt(-exponent)).toString();
    dp = digits.length + exponent;
  }
  return { digits: digits.replace(/0+$/, ''), dp };
}

/** Keeps `count` digits, rounding half to even as Go's decimal.Round does. */
function roundDecimal(decimal: Decimal, count: number): Decimal {
  const { digits, dp } = decimal;
  if (count < 0 || count >= digits.length) return decimal;
  const next = digits[count];
  let up: boolean;
  if (next === '5' && count + 1 === digits.length) {
    up = count > 0 && Number(digits[count - 1]) % 2 === 1;
  } else {
    up = next >= '5';
  }
  if (!up) return { digits: digits.slice(0, count).replace(/0+$/, ''), dp };
  let i = count - 1;
  while (i >= 0 && digits[i] === '9') i -= 1;
  if (i < 0) return { digits: '1', dp: dp + 1 };
  return { digits: digits.slice(0, i) + String(Number(digits[i]) + 1), dp };
}

/** Go's %x for floats: -0x1.8p+00, the mantissa in hex and the binary exponent in decimal. */
function hexFloat(value: number, precision: number): string {
  if (!Number.isFinite(value)) return formatFloat(value, 'g', -1);
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  if (value === 0) return `${sign}0x0${precision > 0 ? `.${'0'.repeat(precision)}` : ''}p+00`;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(value));
  const bits = view.getBigUint64(0);
  let exponent = Number((bits >> 52n) & 0x7ffn) - 1023;
  let mantissa = bits & ((1n << 52n) - 1n);
  if (exponent === -1023) {
    // Subnormal: shift until the leading 1 reaches the implicit bit.
    exponent = -1022;
    while ((mantissa & (1n << 52n)) === 0n) {
      mantissa <<= 1n;
      exponent -= 1;
    }
    mantissa &= (1n << 52n) - 1n;
  }
  let fraction = mantissa;
  let digits = 13;
  if (precision >= 0 && precision < 13) {
    // Round the whole mantissa, implicit 1 included, half to even.
    const shift = BigInt(4 * (13 - precision));
    const half = 1n << (shift - 1n);
    let full = (1n << 52n) | mantissa;
    const rest = full & ((1n << shift) - 1n);
    full >>= shift;
    if (rest > half || (rest === half && (full & 1n) === 1n)) full += 1n;
    if (full >> BigInt(4 * precision) >= 2n) {
      full >>= 1n;
      exponent += 1;
    }
    fraction = full & ((1n << BigInt(4 * precision)) - 1n);
    digits = precision;
  }
  let hex = digits === 0 ? '' : fraction.toString(16).padStart(digits, '0');
  if (precision < 0) hex = hex.replace(/0+$/, '');
  else if (precision > 13) hex += '0'.repeat(precision - 13);
  const magnitude = Math.abs(exponent);
  return `${sign}0x1${hex ? `.${hex}` : ''}p${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
}
