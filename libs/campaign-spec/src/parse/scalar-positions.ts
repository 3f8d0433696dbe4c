import { isScalar, type Node, type Scalar } from 'yaml';

/**
 * Maps an offset inside a scalar's value (a template or a query) to an offset in the file, so
 * that an error at column 12 of `${{ repo.x }}` points at the file's true line and column.
 *
 * The source characters of the scalar (escapes decoded, quotes and block headers skipped) are
 * aligned with the value greedily. Every non-whitespace character maps exactly; whitespace that
 * YAML folded (line breaks of plain and `>` scalars, indentation) maps to the nearest source
 * character, which is the one approximation.
 */
export function sourceOffsetInScalar(
  text: string,
  node: Node | undefined,
  valueOffset: number,
): number {
  return scalarSourceOffsets(text, node)(valueOffset);
}

/**
 * `sourceOffsetInScalar` for every offset of one scalar: the alignment is computed once, in time
 * linear in the scalar, and each offset is then looked up.
 */
export function scalarSourceOffsets(
  text: string,
  node: Node | undefined,
): (valueOffset: number) => number {
  if (!node?.range) return () => 0;
  const start = node.range[0];
  if (!isScalar(node) || typeof node.value !== 'string') return () => start;
  const value = node.value;
  const tokens = scalarTokens(text, node.type, start, node.range[1]);
  const offsets = new Array<number>(value.length + 1);
  let v = 0;
  let t = 0;
  while (v < value.length) {
    const token = tokens[t];
    if (!token) break;
    const ch = value[v]!;
    const bothSpace = isSpace(ch) && isSpace(token.ch);
    if (token.ch === ch || bothSpace) {
      offsets[v] = token.offset;
      v++;
      t++;
    } else if (isSpace(token.ch)) {
      t++;
    } else {
      offsets[v] = token.offset;
      v++;
      if (!isSpace(ch)) t++;
    }
  }
  const last = tokens[tokens.length - 1];
  // Past the source characters: after the last one (and just past it for the value's end).
  const rest = !last ? start : v < value.length ? last.offset + 1 : last.offset + last.width;
  for (; v <= value.length; v++) offsets[v] = rest;
  return (valueOffset) => offsets[Math.max(0, Math.min(valueOffset, value.length))]!;
}

interface Token {
  /** The value character this source produces. */
  ch: string;
  /** Its offset in the file. */
  offset: number;
  /** How many source characters produce it (escapes are longer than one). */
  width: number;
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
}

function scalarTokens(text: string, type: Scalar['type'], start: number, end: number): Token[] {
  const tokens: Token[] = [];
  const push = (ch: string, offset: number, width = 1) => tokens.push({ ch, offset, width });
  switch (type) {
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED': {
      // Content starts on the line after the `|`/`>` header (which may carry a comment).
      let i = text.indexOf('\n', start);
      if (i < 0 || i >= end) return tokens;
      for (i = i + 1; i < end; i++) push(text[i]!, i);
      return tokens;
    }
    case 'QUOTE_SINGLE': {
      for (let i = start + 1; i < end - 1; i++) {
        if (text[i] === "'" && text[i + 1] === "'") {
          push("'", i, 2);
          i++;
        } else push(text[i]!, i);
      }
      return tokens;
    }
    case 'QUOTE_DOUBLE': {
      for (let i = start + 1; i < end - 1; i++) {
        const ch = text[i]!;
        if (ch !== '\\') {
          push(ch, i);
          continue;
        }
        const next = text[i + 1] ?? '';
        if (next === '\n' || next === '\r') {
          i++; // an escaped line break joins the lines
          continue;
        }
        const hex = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
        if (hex > 0) {
          const code = Number.parseInt(text.slice(i + 2, i + 2 + hex), 16);
          const decoded = Number.isNaN(code) ? '' : String.fromCodePoint(code);
          for (const unit of decoded.split('')) push(unit, i, 2 + hex);
          i += 1 + hex;
          continue;
        }
        push(DOUBLE_QUOTE_ESCAPES[next] ?? next, i, 2);
        i++;
      }
      return tokens;
    }
    default:
      for (let i = start; i < end; i++) push(text[i]!, i);
      return tokens;
  }
}

const DOUBLE_QUOTE_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};

/**
 * The offset in `source` of 1-based (line, column), how templates report positions; the lines are
 * found once for all the positions asked.
 */
export function lineColumnOffsets(source: string): (line: number, column: number) => number {
  const starts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
  return (line, column) => {
    const start = starts[Math.max(1, line) - 1];
    if (start === undefined) return source.length;
    return Math.min(source.length, start + Math.max(0, column - 1));
  };
}
