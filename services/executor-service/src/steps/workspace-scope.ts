import { posix } from 'node:path';

/**
 * What a checkout limited to one workspace (`workspaces[].onlyFetchWorkspace`) writes, as
 * Sourcegraph documents it: the workspace's directory with everything under it, and of the root
 * and of every directory between the root and the workspace only the files named `.gitignore` and
 * `.gitattributes` (they change what `git add` stages and how files are converted). A workspace
 * at the root is the whole repository.
 *
 * The store still holds the whole commit (it is shared by every workspace of the repository);
 * only the checkout is limited. Paths outside the scope are in the staged state as in the base
 * commit: absent files are never deletions. A step that writes at such a path anyway stages
 * what it wrote there, as it would in a full checkout.
 */
export interface WorkspaceScope {
  /** The workspace's directory inside the repository (not '', no leading or trailing '/'). */
  readonly directory: string;
}

/** The files kept from the root and from each directory above the workspace. */
export const KEPT_PARENT_FILES: readonly string[] = ['.gitignore', '.gitattributes'];

/** The scope of a workspace at `path` whose checkout is limited to it; null for the root. */
export function workspaceScope(path: string): WorkspaceScope | null {
  const directory = path.replace(/^\/+|\/+$/g, '');
  return directory === '' ? null : { directory };
}

/** Whether the limited checkout writes the file at `path` (relative to the repository's root). */
export function inScope(scope: WorkspaceScope, path: string): boolean {
  if (path.startsWith(`${scope.directory}/`)) return true;
  if (!KEPT_PARENT_FILES.includes(posix.basename(path))) return false;
  const parent = posix.dirname(path);
  return parent === '.' || scope.directory.startsWith(`${parent}/`);
}

/** Characters with a meaning in git's pattern syntax, escaped with a backslash. */
const PATTERN_SPECIALS = /[\\*?[\]!# ]/g;

/**
 * The scope as git's `info/sparse-checkout` (non-cone patterns) for `git read-tree -u`: the
 * directory, and each kept file as a file only (a directory of that name is excluded again).
 */
export function sparseCheckoutPatterns(scope: WorkspaceScope): string {
  if (/[\n\r]/.test(scope.directory)) {
    throw new Error(`the workspace path ${JSON.stringify(scope.directory)} has a line break`);
  }
  const escape = (path: string) => path.replace(PATTERN_SPECIALS, (c) => `\\${c}`);
  const lines = [`/${escape(scope.directory)}/`];
  const parts = scope.directory.split('/');
  for (let depth = 0; depth < parts.length; depth++) {
    const parent = parts.slice(0, depth).join('/');
    for (const name of KEPT_PARENT_FILES) {
      const file = escape(parent === '' ? name : `${parent}/${name}`);
      lines.push(`/${file}`, `!/${file}/`);
    }
  }
  return `${lines.join('\n')}\n`;
}
