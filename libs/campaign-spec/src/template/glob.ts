/**
 * Glob patterns for the `matches` helper, with the syntax of github.com/gobwas/glob compiled
 * without separators (as Sourcegraph does): `*` and `**` match any run of characters including
 * `/`, `?` one character, `[abc]`, `[a-z]`, `[!a-z]` a character class, `{a,b}` alternatives
 * (nestable), and `\` escapes the next character. Matching is by Unicode code point, of the whole
 * string, in time proportional to pattern × text (no backtracking blow-up).
 */

type GlobToken =
  | { kind: 'literal'; codePoint: number }
  | { kind: 'anyOne' }
  | { kind: 'anyRun' }
  | { kind: 'class'; negated: boolean; ranges: ReadonlyArray<readonly [number, number]> };

type Sequence = GlobToken[];

export interface CompiledGlob {
  readonly pattern: string;
  /** The pattern with alternatives expanded: it matches when any of these does. */
  readonly alternatives: readonly Sequence[];
  /** Tokens written while expanding (appended or copied): the work compiling took. */
  readonly size: number;
}

export class GlobError extends Error {}

/** Expanding `{a,b}{c,d}…` multiplies; past this many alternatives the pattern is refused. */
export const MAX_GLOB_ALTERNATIVES = 1024;
/** Tokens expanding one pattern may write (alternatives × their length, with copies). */
export const MAX_GLOB_EXPANSION = 1_000_000;
/** Character comparisons one `matches` call may make before it gives up. */
export const MAX_GLOB_WORK = 20_000_000;

/** Compiling charges a shared budget this many steps per token written (allocating, not comparing). */
export const COMPILE_STEPS_PER_TOKEN = 8;

/** Expands the pattern; the tokens written are also charged to `work` when given (see GlobWork). */
export function compileGlob(pattern: string, work?: GlobWork): CompiledGlob {
  const codePoints = Array.from(pattern, (char) => char.codePointAt(0) ?? 0);
  const parser = new GlobParser(codePoints, work);
  const alternatives = parser.parseSequence(false);
  return { pattern, alternatives, size: parser.written };
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const BANG = 0x21;
const DASH = 0x2d;

class GlobParser {
  private at = 0;
  /** Tokens appended or copied so far; see MAX_GLOB_EXPANSION. */
  written = 0;

  constructor(
    private readonly input: readonly number[],
    private readonly work?: GlobWork,
  ) {}

  private write(tokens: number): void {
    this.written += tokens;
    if (this.written > MAX_GLOB_EXPANSION) {
      throw new GlobError(
        `pattern expands to more than ${MAX_GLOB_EXPANSION} characters across its alternatives`,
      );
    }
    if (this.work) {
      this.work.remaining -= tokens * COMPILE_STEPS_PER_TOKEN;
      if (this.work.remaining < 0) throw new GlobError('pattern is too expensive to expand here');
    }
  }

  /** A sequence up to the end (or, inside braces, up to `,` or `}`), as its expanded alternatives. */
  parseSequence(insideBraces: boolean): Sequence[] {
    let alternatives: Sequence[] = [[]];
    const appendToAll = (token: GlobToken): void => {
      this.write(alternatives.length);
      for (const alternative of alternatives) alternative.push(token);
    };
    while (this.at < this.input.length) {
      const codePoint = this.input[this.at];
      if (insideBraces && (codePoint === COMMA || codePoint === CLOSE_BRACE)) break;
      this.at += 1;
      switch (codePoint) {
        case STAR:
          appendToAll({ kind: 'anyRun' });
          break;
        case QUESTION:
          appendToAll({ kind: 'anyOne' });
          break;
        case OPEN_BRACKET:
          appendToAll(this.parseClass());
          break;
        case OPEN_BRACE: {
          const choices = this.parseBraces();
          if (alternatives.length * choices.length > MAX_GLOB_ALTERNATIVES) {
            throw new GlobError(`pattern has more than ${MAX_GLOB_ALTERNATIVES} alternatives`);
          }
          alternatives = alternatives.flatMap((prefix) =>
            choices.map((choice) => {
              this.write(prefix.length + choice.length);
              return [...prefix, ...choice];
            }),
          );
          break;
        }
        case BACKSLASH:
          appendToAll({ kind: 'literal', codePoint: this.escaped() });
          break;
        default:
          appendToAll({ kind: 'literal', codePoint });
      }
    }
    return alternatives;
  }

  private escaped(): number {
    if (this.at >= this.input.length) throw new GlobError('pattern ends with a lone "\\"');
    const codePoint = this.input[this.at];
    this.at += 1;
    return codePoint;
  }

  private parseBraces(): Sequence[] {
    const choices: Sequence[] = [];
    for (;;) {
      choices.push(...this.parseSequence(true));
      if (choices.length > MAX_GLOB_ALTERNATIVES) {
        throw new GlobError(`pattern has more than ${MAX_GLOB_ALTERNATIVES} alternatives`);
      }
      if (this.at >= this.input.length) throw new GlobError('unclosed "{" in pattern');
      const separator = this.input[this.at];
      this.at += 1;
      if (separator === CLOSE_BRACE) return choices;
    }
  }

  private parseClass(): GlobToken {
    let negated = false;
    if (this.input[this.at] === BANG) {
      negated = true;
      this.at += 1;
    }
    const ranges: Array<readonly [number, number]> = [];
    for (;;) {
      if (this.at >= this.input.length) throw new GlobError('unclosed "[" in pattern');
      let low = this.input[this.at];
      this.at += 1;
      if (low === CLOSE_BRACKET) break;
      if (low === BACKSLASH) low = this.escaped();
      let high = low;
      if (
        this.input[this.at] === DASH &&
        this.at + 1 < this.input.length &&
        this.input[this.at + 1] !== CLOSE_BRACKET
      ) {
        this.at += 1;
        high = this.input[this.at];
        this.at += 1;
        if (high === BACKSLASH) high = this.escaped();
        if (high < low) {
          throw new GlobError(
            `character range ${String.fromCodePoint(low)}-${String.fromCodePoint(high)} is reversed`,
          );
        }
      }
      ranges.push([low, high]);
    }
    if (ranges.length === 0) throw new GlobError('empty character class "[]" in pattern');
    return { kind: 'class', negated, ranges };
  }
}

/** Character comparisons a match may still make; one budget can be shared by many matches. */
export interface GlobWork {
  remaining: number;
}

/**
 * True when the whole of `text` matches; throws GlobError when the match would take too long
 * (more than MAX_GLOB_WORK comparisons, or more than what is left of a shared `work`).
 */
export function matchGlob(
  glob: CompiledGlob,
  text: string,
  work: GlobWork = { remaining: MAX_GLOB_WORK },
): boolean {
  work.remaining -= text.length;
  if (work.remaining < 0)
    throw new GlobError('pattern is too expensive to match against this text');
  const codePoints = Array.from(text, (char) => char.codePointAt(0) ?? 0);
  return glob.alternatives.some((sequence) => matchSequence(sequence, codePoints, work));
}

function matchesOne(token: GlobToken, codePoint: number): boolean {
  switch (token.kind) {
    case 'literal':
      return token.codePoint === codePoint;
    case 'anyOne':
      return true;
    case 'class':
      return (
        token.ranges.some(([low, high]) => codePoint >= low && codePoint <= high) !== token.negated
      );
    case 'anyRun':
      return false;
  }
}

/** Wildcard matching with a single resume point: after a `*`, a failure retries one character later. */
function matchSequence(
  pattern: Sequence,
  text: readonly number[],
  work: { remaining: number },
): boolean {
  let p = 0;
  let t = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (t < text.length) {
    work.remaining -= 1;
    if (work.remaining < 0)
      throw new GlobError('pattern is too expensive to match against this text');
    const token = pattern[p];
    if (token?.kind === 'anyRun') {
      starAt = p;
      p += 1;
      resumeAt = t;
    } else if (token !== undefined && matchesOne(token, text[t])) {
      p += 1;
      t += 1;
    } else if (starAt >= 0) {
      p = starAt + 1;
      resumeAt += 1;
      t = resumeAt;
    } else {
      return false;
    }
  }
  while (pattern[p]?.kind === 'anyRun') p += 1;
  return p === pattern.length;
}
