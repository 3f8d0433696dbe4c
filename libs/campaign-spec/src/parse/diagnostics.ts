/** 1-based line and column in the spec file (columns count UTF-16 code units, as editors do). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** One problem found in a spec, positioned at the key or value it is about. */
export interface SpecDiagnostic extends SourcePosition {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** The path of the value it is about (`['steps', 0, 'run']`), when there is one. */
  readonly path: readonly (string | number)[];
}

/** `FILE:LINE:COL: message`, or `FILE:LINE:COL: warning: message` for a warning. */
export function formatDiagnostic(fileName: string, diagnostic: SpecDiagnostic): string {
  const kind = diagnostic.severity === 'warning' ? 'warning: ' : '';
  return `${fileName}:${diagnostic.line}:${diagnostic.column}: ${kind}${diagnostic.message}`;
}

/** Orders diagnostics as they appear in the file; the sort is stable for equal positions. */
export function byPosition(a: SourcePosition, b: SourcePosition): number {
  return a.line - b.line || a.column - b.column;
}

/** `steps[0].outputs.count` for messages; keys that are not identifiers are quoted. */
export function displayPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}
