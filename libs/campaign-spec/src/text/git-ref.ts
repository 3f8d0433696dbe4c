/**
 * Why `name` cannot be a Git branch name (the rules of `git check-ref-format --branch`), or
 * undefined when it can.
 */
export function invalidBranchNameReason(name: string): string | undefined {
  if (name === '') return 'a branch name cannot be empty';
  if (name === '@') return 'a branch name cannot be "@"';
  if (name === 'HEAD') return 'a branch name cannot be "HEAD"';
  if (name.startsWith('-')) return 'a branch name cannot start with "-"';
  if (name.startsWith('/') || name.endsWith('/')) {
    return 'a branch name cannot start or end with "/"';
  }
  if (name.includes('//')) return 'a branch name cannot contain "//"';
  if (name.endsWith('.')) return 'a branch name cannot end with "."';
  if (name.includes('..')) return 'a branch name cannot contain ".."';
  if (name.includes('@{')) return 'a branch name cannot contain "@{"';
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad) {
    const ch = bad[0];
    const shown = /\s/.test(ch)
      ? 'whitespace'
      : ch < ' ' || ch === '\x7f'
        ? 'control characters'
        : `"${ch}"`;
    return `a branch name cannot contain ${shown}`;
  }
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return 'no part of a branch name can start with "."';
    if (component.endsWith('.lock')) return 'no part of a branch name can end with ".lock"';
  }
  return undefined;
}

/**
 * Whether two branches cannot coexist in one repository because one is a directory of the other
 * in Git's ref namespace (`a` and `a/b`).
 */
export function branchesConflict(a: string, b: string): boolean {
  return a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
