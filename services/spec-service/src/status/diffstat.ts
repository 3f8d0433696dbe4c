/** Lines a diff adds and deletes, as `git diff --stat` counts them (binary files count none). */
export interface LineCounts {
  added: number;
  deleted: number;
}

/**
 * Counts the added and deleted lines of a `git diff` text. Only lines inside hunks count: a
 * file's header (`--- a/x`, `+++ b/x`) is before its first `@@`, and a binary patch has none.
 */
export function lineCounts(diff: string): LineCounts {
  let added = 0;
  let deleted = 0;
  let inHunk = false;
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) inHunk = false;
    else if (line.startsWith('@@')) inHunk = true;
    else if (inHunk && line.startsWith('+')) added++;
    else if (inHunk && line.startsWith('-')) deleted++;
  }
  return { added, deleted };
}
