import {
  compileGlob,
  GlobError,
  matchGlob,
  type CompiledGlob,
  type GlobWork,
} from '../template/glob.js';

/**
 * Globs as batch specs use them for `published` and `workspaces[].in`: the syntax of
 * github.com/gobwas/glob without separators (`*` also matches `/`, `?`, `[a-z]`, `[!a-z]`,
 * `{a,b}`, `\` escapes). The matcher is the template engine's (the `matches` helper), so all three
 * agree on every pattern; this adds a cache and the checks the validator needs.
 */
export { GlobError, type GlobWork };

/** Compiled patterns, at most 1,000 of them and 2,000,000 expanded tokens in all. */
const cache = new Map<string, CompiledGlob>();
let cachedSize = 0;

function compiled(pattern: string, work?: GlobWork): CompiledGlob {
  let glob = cache.get(pattern);
  if (!glob) {
    glob = compileGlob(pattern, work);
    if (cache.size >= 1000 || cachedSize + glob.size > 2_000_000) {
      cache.clear();
      cachedSize = 0;
    }
    cache.set(pattern, glob);
    cachedSize += glob.size;
  }
  return glob;
}

/**
 * Whether the whole of `text` matches; throws GlobError for a malformed pattern or too much work
 * (for this match, or for all that share `work`).
 */
export function matchesGlob(pattern: string, text: string, work?: GlobWork): boolean {
  return matchGlob(compiled(pattern, work), text, work);
}

/** Why `pattern` is not a valid glob, or undefined when it is; compiling it is charged to `work`. */
export function globProblem(pattern: string, work?: GlobWork): string | undefined {
  try {
    compiled(pattern, work);
    return undefined;
  } catch (err) {
    if (err instanceof GlobError) return err.message;
    throw err;
  }
}

/** Whether the pattern has no glob syntax, i.e. matches exactly one string. */
export function isLiteralGlob(pattern: string): boolean {
  return !/[*?[{\\]/.test(pattern);
}

/** The text every match of the pattern starts with: what comes before its first glob syntax. */
export function literalPrefix(pattern: string): string {
  const at = pattern.search(/[*?[{\\]/);
  return at < 0 ? pattern : pattern.slice(0, at);
}
