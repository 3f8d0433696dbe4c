/**
 * Glob patterns as Sourcegraph batch specs use them for `published`, `workspaces[].in` and the
 * `matches` template helper (the syntax of github.com/gobwas/glob without separators):
 * `*` any sequence (including `/`), `?` one character, `[abc]`, `[a-z]`, `[!abc]`, `{a,b}`, and
 * `\` to escape the next character.
 */
export class GlobSyntaxError extends Error {
  constructor(
    message: string,
    /** 0-based offset of the problem in the pattern. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'GlobSyntaxError';
  }
}

const cache = new Map<string, RegExp>();

/** Compiles a glob to an anchored regular expression; throws GlobSyntaxError when malformed. */
export function compileGlob(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached) return cached;
  const re = new RegExp(`^${globToRegExpSource(pattern)}$`, 's');
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** Whether `text` matches the whole glob `pattern`. */
export function matchesGlob(pattern: string, text: string): boolean {
  return compileGlob(pattern).test(text);
}

/** Whether the pattern uses any glob syntax, i.e. may match more than one string. */
export function isLiteralGlob(pattern: string): boolean {
  return !/[*?[{\\]/.test(pattern);
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

function globToRegExpSource(pattern: string): string {
  let out = '';
  let i = 0;
  // Offsets of the `{` of each alternation we are inside of.
  const braces: number[] = [];
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      if (i + 1 >= pattern.length) throw new GlobSyntaxError('dangling "\\" at the end', i);
      out += escapeRegExp(pattern[i + 1]!);
      i += 2;
    } else if (ch === '*') {
      while (pattern[i] === '*') i++;
      out += '.*';
    } else if (ch === '?') {
      out += '.';
      i++;
    } else if (ch === '[') {
      const end = findClassEnd(pattern, i);
      const negated = pattern[i + 1] === '!';
      const bodyStart = i + (negated ? 2 : 1);
      const body = pattern.slice(bodyStart, end);
      if (body === '') throw new GlobSyntaxError('empty character class "[]"', i);
      out += `[${negated ? '^' : ''}${classBody(body, bodyStart)}]`;
      i = end + 1;
    } else if (ch === '{') {
      braces.push(i);
      out += '(?:';
      i++;
    } else if (ch === ',' && braces.length > 0) {
      out += '|';
      i++;
    } else if (ch === '}' && braces.length > 0) {
      braces.pop();
      out += ')';
      i++;
    } else {
      out += escapeRegExp(ch);
      i++;
    }
  }
  if (braces.length > 0) throw new GlobSyntaxError('unclosed "{"', braces[braces.length - 1]!);
  return out;
}

function findClassEnd(pattern: string, start: number): number {
  for (let j = start + 1; j < pattern.length; j++) {
    if (pattern[j] === '\\') j++;
    else if (pattern[j] === ']') return j;
  }
  throw new GlobSyntaxError('unclosed "["', start);
}

function classBody(body: string, offset: number): string {
  let out = '';
  for (let j = 0; j < body.length; j++) {
    const ch = body[j]!;
    if (ch === '\\' && j + 1 < body.length) {
      out += `\\${body[++j]}`;
    } else if (ch === '-' && j > 0 && j < body.length - 1) {
      if (body[j - 1]! > body[j + 1]!) {
        throw new GlobSyntaxError(`invalid range "${body[j - 1]}-${body[j + 1]}"`, offset + j);
      }
      out += '-';
    } else {
      out += /[\\\]^-]/.test(ch) ? `\\${ch}` : ch;
    }
  }
  return out;
}
