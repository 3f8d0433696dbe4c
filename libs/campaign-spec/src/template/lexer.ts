import { quote, type SourceLines } from './errors.js';

/**
 * Splits a template into tokens with the rules of Go's text/template/parse/lex.go, using the
 * delimiters `${{` and `}}` as Sourcegraph does. Trim markers (`${{- ` and ` -}}`) are applied
 * here, so the parser never sees them. Linear in the size of the source.
 */

export type TokenKind =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'identifier'
  | 'keyword'
  | 'field'
  | 'variable'
  | 'dot'
  | 'bool'
  | 'nil'
  | 'number'
  | 'charConstant'
  | 'string'
  | 'rawString'
  | 'leftParen'
  | 'rightParen'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'char'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Offset of the token's first character in the source. */
  readonly offset: number;
  /** The token as written, except for `text`, which holds the text after trimming. */
  readonly text: string;
}

export const LEFT_DELIMITER = '${{';
export const RIGHT_DELIMITER = '}}';

const KEYWORDS: ReadonlySet<string> = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'break',
  'continue',
  'define',
  'template',
  'block',
]);

export function lexTemplate(lines: SourceLines): Token[] {
  return new Lexer(lines).run();
}

class Lexer {
  private readonly source: string;
  private readonly tokens: Token[] = [];
  private pos = 0;

  constructor(private readonly lines: SourceLines) {
    this.source = lines.source;
  }

  run(): Token[] {
    const { source } = this;
    for (;;) {
      const delimiter = source.indexOf(LEFT_DELIMITER, this.pos);
      if (delimiter < 0) {
        this.emitText(this.pos, source.length);
        break;
      }
      const afterDelimiter = delimiter + LEFT_DELIMITER.length;
      const trimLeft = this.hasLeftTrimMarker(afterDelimiter);
      let textEnd = delimiter;
      if (trimLeft) {
        while (textEnd > this.pos && isSpace(source.charCodeAt(textEnd - 1))) textEnd--;
      }
      this.emitText(this.pos, textEnd);
      const inside = afterDelimiter + (trimLeft ? 2 : 0);
      if (source.startsWith('/*', inside)) {
        this.pos = this.skipComment(delimiter, inside);
      } else {
        this.tokens.push({ kind: 'leftDelim', offset: delimiter, text: LEFT_DELIMITER });
        this.pos = this.lexAction(delimiter, inside);
      }
    }
    this.tokens.push({ kind: 'eof', offset: source.length, text: '' });
    return this.tokens;
  }

  private emitText(start: number, end: number): void {
    if (end > start) {
      this.tokens.push({ kind: 'text', offset: start, text: this.source.slice(start, end) });
    }
  }

  private hasLeftTrimMarker(at: number): boolean {
    return this.source[at] === '-' && isSpace(this.source.charCodeAt(at + 1));
  }

  /** The right delimiter at `at`, if any: its length, and whether a ` -` trim marker came with it. */
  private rightDelimiterAt(at: number): { length: number; trims: boolean } | undefined {
    const { source } = this;
    if (isSpace(source.charCodeAt(at)) && source[at + 1] === '-') {
      if (source.startsWith(RIGHT_DELIMITER, at + 2)) return { length: 4, trims: true };
    }
    if (source.startsWith(RIGHT_DELIMITER, at)) return { length: 2, trims: false };
    return undefined;
  }

  private skipSpaces(from: number): number {
    let at = from;
    while (at < this.source.length && isSpace(this.source.charCodeAt(at))) at++;
    return at;
  }

  private skipComment(delimiter: number, commentStart: number): number {
    const end = this.source.indexOf('*/', commentStart + 2);
    if (end < 0) {
      throw this.lines.error(
        'syntax',
        'unclosed comment: "/*" has no matching "*/"',
        commentStart,
        '/*',
      );
    }
    const after = end + 2;
    const right = this.rightDelimiterAt(after);
    if (!right) {
      throw this.lines.error(
        'syntax',
        `a comment must end its action: expected "}}" right after "*/" (the comment starts at the "\${{" here)`,
        delimiter,
        LEFT_DELIMITER,
      );
    }
    const next = after + right.length;
    return right.trims ? this.skipSpaces(next) : next;
  }

  /** Lexes the inside of an action and its right delimiter; returns where the following text starts. */
  private lexAction(delimiter: number, start: number): number {
    const { source } = this;
    const openParens: number[] = [];
    let at = start;
    for (;;) {
      const right = this.rightDelimiterAt(at);
      if (right) {
        if (openParens.length > 0) {
          const paren = openParens[openParens.length - 1];
          throw this.lines.error(
            'syntax',
            'unclosed left paren: "(" has no matching ")"',
            paren,
            '(',
          );
        }
        this.tokens.push({
          kind: 'rightDelim',
          offset: at,
          text: source.slice(at, at + right.length),
        });
        const next = at + right.length;
        return right.trims ? this.skipSpaces(next) : next;
      }
      if (at >= source.length || source.startsWith(LEFT_DELIMITER, at)) {
        throw this.lines.error(
          'unclosed-action',
          `unclosed action: "\${{" has no matching "}}"`,
          delimiter,
          LEFT_DELIMITER,
        );
      }
      const code = source.charCodeAt(at);
      const char = source[at];
      if (isSpace(code)) {
        at = this.lexSpace(at);
        continue;
      }
      switch (char) {
        case '=':
          this.push('assign', at, at + 1);
          at += 1;
          continue;
        case ':':
          if (source[at + 1] !== '=') {
            throw this.lines.error('syntax', 'expected ":=" after ":"', at, ':');
          }
          this.push('declare', at, at + 2);
          at += 2;
          continue;
        case '|':
          this.push('pipe', at, at + 1);
          at += 1;
          continue;
        case ',':
          this.push('comma', at, at + 1);
          at += 1;
          continue;
        case '(':
          openParens.push(at);
          this.push('leftParen', at, at + 1);
          at += 1;
          continue;
        case ')':
          if (openParens.pop() === undefined) {
            throw this.lines.error('syntax', 'unexpected right paren ")"', at, ')');
          }
          this.push('rightParen', at, at + 1);
          at += 1;
          continue;
        case '"':
          at = this.lexQuote(at);
          continue;
        case '`':
          at = this.lexRawQuote(at);
          continue;
        case "'":
          at = this.lexCharConstant(at);
          continue;
        case '$':
          at = this.lexFieldOrVariable(at, 'variable');
          continue;
        case '.':
          if (!isDigit(source.charCodeAt(at + 1))) {
            at = this.lexFieldOrVariable(at, 'field');
            continue;
          }
          at = this.lexNumber(at);
          continue;
        case '+':
        case '-':
          at = this.lexNumber(at);
          continue;
      }
      if (isDigit(code)) {
        at = this.lexNumber(at);
        continue;
      }
      const codePoint = source.codePointAt(at) ?? 0;
      if (isAlphaNumeric(codePoint)) {
        at = this.lexIdentifier(at);
        continue;
      }
      if (code < 0x7f && code > 0x20) {
        this.push('char', at, at + 1);
        at += 1;
        continue;
      }
      const shown = String.fromCodePoint(codePoint);
      throw this.lines.error(
        'syntax',
        `unrecognized character ${quote(shown)} (${unicodeName(codePoint)}) in action`,
        at,
        shown,
      );
    }
  }

  private push(kind: TokenKind, start: number, end: number): void {
    this.tokens.push({ kind, offset: start, text: this.source.slice(start, end) });
  }

  /** A run of spaces; the last one is left alone when it begins a ` -}}` trim marker. */
  private lexSpace(start: number): number {
    let end = this.skipSpaces(start);
    if (this.source[end] === '-' && this.source.startsWith(RIGHT_DELIMITER, end + 1)) {
      end -= 1;
    }
    if (end > start) this.push('space', start, end);
    return end;
  }

  private atTerminator(at: number): boolean {
    if (at >= this.source.length) return true;
    const char = this.source[at];
    return isSpace(this.source.charCodeAt(at)) || '.,|:)(}'.includes(char);
  }

  private scanAlphaNumeric(from: number): number {
    let at = from;
    while (at < this.source.length) {
      const codePoint = this.source.codePointAt(at) ?? 0;
      if (!isAlphaNumeric(codePoint)) break;
      at += codePoint > 0xffff ? 2 : 1;
    }
    return at;
  }

  private badCharacter(at: number, after: string): never {
    const codePoint = this.source.codePointAt(at) ?? 0;
    const shown = String.fromCodePoint(codePoint);
    throw this.lines.error(
      'syntax',
      `bad character ${quote(shown)} (${unicodeName(codePoint)}) after ${quote(after)}`,
      at,
      shown,
    );
  }

  private lexIdentifier(start: number): number {
    const end = this.scanAlphaNumeric(start);
    const word = this.source.slice(start, end);
    if (!this.atTerminator(end)) this.badCharacter(end, word);
    let kind: TokenKind = 'identifier';
    if (KEYWORDS.has(word)) kind = 'keyword';
    else if (word === 'true' || word === 'false') kind = 'bool';
    else if (word === 'nil') kind = 'nil';
    this.tokens.push({ kind, offset: start, text: word });
    return end;
  }

  /** `$`, `$name`, `.` or `.name`; the sigil is at `start`. */
  private lexFieldOrVariable(start: number, kind: 'field' | 'variable'): number {
    if (this.atTerminator(start + 1)) {
      this.push(kind === 'variable' ? 'variable' : 'dot', start, start + 1);
      return start + 1;
    }
    const end = this.scanAlphaNumeric(start + 1);
    if (!this.atTerminator(end)) this.badCharacter(end, this.source.slice(start, end));
    this.push(kind, start, end);
    return end;
  }

  private lexQuote(start: number): number {
    return this.lexEscaped(start, '"', 'string', 'unterminated quoted string');
  }

  private lexCharConstant(start: number): number {
    return this.lexEscaped(start, "'", 'charConstant', 'unterminated character constant');
  }

  /** A "…" string or '…' character constant: backslash escapes, no line breaks. */
  private lexEscaped(
    start: number,
    quote: string,
    kind: 'string' | 'charConstant',
    unterminated: string,
  ): number {
    const { source } = this;
    let at = start + 1;
    for (;;) {
      const char = source[at];
      if (char === '\\' && at + 1 < source.length && source[at + 1] !== '\n') {
        at += 2;
        continue;
      }
      if (char === undefined || char === '\n' || char === '\\') {
        throw this.lines.error('syntax', unterminated, start, source.slice(start, at));
      }
      at += 1;
      if (char === quote) break;
    }
    this.push(kind, start, at);
    return at;
  }

  private lexRawQuote(start: number): number {
    const end = this.source.indexOf('`', start + 1);
    if (end < 0) {
      throw this.lines.error('syntax', 'unterminated raw quoted string', start, '`');
    }
    this.push('rawString', start, end + 1);
    return end + 1;
  }

  /** Go's scanNumber: permissive here, strict when the parser converts the text. */
  private lexNumber(start: number): number {
    const { source } = this;
    let at = start;
    const accept = (valid: string): boolean => {
      if (at < source.length && valid.includes(source[at])) {
        at += 1;
        return true;
      }
      return false;
    };
    const acceptRun = (valid: string): void => {
      while (accept(valid));
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    const next = source.codePointAt(at);
    if ((next !== undefined && isAlphaNumeric(next)) || source[at] === '+' || source[at] === '-') {
      const end = next !== undefined && next > 0xffff ? at + 2 : at + 1;
      throw this.lines.error(
        'syntax',
        `bad number syntax: ${quote(source.slice(start, end))}`,
        start,
        source.slice(start, end),
      );
    }
    this.push('number', start, at);
    return at;
  }
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;

/** Go's isAlphaNumeric: `_`, Unicode letters and decimal digits. */
function isAlphaNumeric(codePoint: number): boolean {
  if (codePoint < 0x80) {
    return (
      codePoint === 0x5f ||
      (codePoint >= 0x30 && codePoint <= 0x39) ||
      (codePoint >= 0x41 && codePoint <= 0x5a) ||
      (codePoint >= 0x61 && codePoint <= 0x7a)
    );
  }
  return LETTER_OR_DIGIT.test(String.fromCodePoint(codePoint));
}

function unicodeName(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}
