/** Where something is in a template's own text: 1-based line and column (UTF-16 code units, like JavaScript strings and the `yaml` package). */
export interface TemplatePosition {
  line: number;
  column: number;
}

/** Why a template failed to parse or render; stable strings that tests and callers may switch on. */
export type TemplateErrorCode =
  | 'syntax'
  | 'unclosed-action'
  | 'unclosed-block'
  | 'unknown-name'
  | 'unsupported'
  | 'forbidden-name'
  | 'undefined-variable'
  | 'unknown-namespace'
  | 'missing-namespace'
  | 'missing-output'
  | 'bad-field'
  | 'nil-field'
  | 'not-a-function'
  | 'wrong-arity'
  | 'wrong-type'
  | 'index-out-of-range'
  | 'bad-comparison'
  | 'bad-glob'
  | 'unsupported-value'
  | 'depth-limit'
  | 'step-limit'
  | 'output-limit'
  | 'source-limit';

/** A template failed to parse or render. `message` says what and where; `detail` says only what. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';

  constructor(
    readonly code: TemplateErrorCode,
    /** What went wrong, without the position. */
    readonly detail: string,
    readonly position: TemplatePosition,
    /** The offending token as written in the template (shortened when long). */
    readonly token: string,
    /** Offset of the offending token in the template source (UTF-16 code units). */
    readonly offset: number,
  ) {
    super(`line ${position.line}, column ${position.column}: ${detail}`);
  }
}

/** Turns offsets into line/column positions; built once per template. */
export class SourceLines {
  private readonly lineStarts: number[] = [0];

  constructor(readonly source: string) {
    for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) {
      this.lineStarts.push(i + 1);
    }
  }

  positionAt(offset: number): TemplatePosition {
    const clamped = Math.max(0, Math.min(offset, this.source.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle] <= clamped) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: clamped - this.lineStarts[low] + 1 };
  }

  error(code: TemplateErrorCode, detail: string, offset: number, token: string): TemplateError {
    return new TemplateError(code, detail, this.positionAt(offset), shorten(token), offset);
  }
}

const MAX_TOKEN_SHOWN = 60;

/** Long tokens (a 1 MB string literal) are cut so that errors stay readable. */
export function shorten(text: string): string {
  return text.length <= MAX_TOKEN_SHOWN ? text : `${text.slice(0, MAX_TOKEN_SHOWN - 1)}…`;
}

/** Quotes a name or token for a message, the way Go's %q would for plain text. */
export function quote(text: string): string {
  return JSON.stringify(shorten(text));
}

/** The closest candidate by edit distance, for "did you mean" hints; undefined when nothing is close. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const list = [...candidates];
  if (lower.length >= 3) {
    const extended = list.find((candidate) => candidate.toLowerCase().startsWith(lower));
    if (extended) return extended;
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.floor(name.length / 3));
  for (const candidate of list) {
    const distance = editDistance(lower, candidate.toLowerCase(), limit);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      let distance = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, beforePrevious[j - 2] + 1);
      }
      current.push(distance);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}
