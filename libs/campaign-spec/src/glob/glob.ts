import { compileGlob, GlobError, matchGlob, type CompiledGlob } from '../template/glob.js';

/**
 * Globs as batch specs use them for `published` and `workspaces[].in`: the syntax of
 * github.com/gobwas/glob without separators (`*` also matches `/`, `?`, `[a-z]`, `[!a-z]`,
 * `{a,b}`, `\` escapes). The matcher is the template engine's (the `matches` helper), so all three
 * agree on every pattern; this adds a cache and the checks the validator needs.
 */
export { GlobError };

const cache = new Map<string, CompiledGlob>();

function compiled(pattern: string): CompiledGlob {
  let glob = cache.get(pattern);
  if (!glob) {
    glob = compileGlob(pattern);
    if (cache.size >= 1000) cache.clear();
    cache.set(pattern, glob);
  }
  return glob;
}

/** Whether the whole of `text` matches; throws GlobError for a malformed pattern or too much work. */
export function matchesGlob(pattern: string, text: string): boolean {
  return matchGlob(compiled(pattern), text);
}

/** Why `pattern` is not a valid glob, or undefined when it is. */
export function globProblem(pattern: string): string | undefined {
  try {
    compiled(pattern);
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
