/** One line of an edit script: kept in both texts, removed from the old one or added by the new one. */
export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
  /** 1-based line numbers in the old and new text (the side a line is not in holds the next line's). */
  oldLine: number;
  newLine: number;
}

/** Splits a text into lines; a final newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * A shortest edit script turning `a` into `b`, by Myers' O((N+M)·D) greedy algorithm
 * ("An O(ND) Difference Algorithm and Its Variations", 1986): for each number of edits d it
 * records the furthest-reaching path on every diagonal k = x − y, then walks the saved frontiers
 * back from the end. Deletions come before insertions within a changed run.
 */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      // Step down (an insertion) from diagonal k+1, or right (a deletion) from k-1.
      const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!);
      let x = down ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk back: trace[d] is the frontier before step d was taken.
  const reversed: { op: DiffLine['op']; x: number; y: number }[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const frontier = trace[d]!;
    const k = x - y;
    if (d === 0) {
      while (x > 0 && y > 0) reversed.push({ op: ' ', x: --x, y: --y });
      break;
    }
    const down = k === -d || (k !== d && frontier[offset + k - 1]! < frontier[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = frontier[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) reversed.push({ op: ' ', x: --x, y: --y });
    if (down) reversed.push({ op: '+', x, y: --y });
    else reversed.push({ op: '-', x: --x, y });
  }
  return reversed.reverse().map((s) => ({
    op: s.op,
    text: s.op === '+' ? b[s.y]! : a[s.x]!,
    oldLine: s.x + 1,
    newLine: s.y + 1,
  }));
}

/**
 * A unified diff (`---`/`+++` headers, `@@ -l,s +l,s @@` hunks with `context` lines around each
 * change), or '' when the texts have the same lines.
 */
export function unifiedDiff(
  oldText: string,
  newText: string,
  options: { oldName?: string; newName?: string; context?: number } = {},
): string {
  const lines = diffLines(splitLines(oldText), splitLines(newText));
  if (lines.every((l) => l.op === ' ')) return '';
  const context = options.context ?? 3;
  const out = [`--- ${options.oldName ?? 'a'}`, `+++ ${options.newName ?? 'b'}`];
  let i = 0;
  while (i < lines.length) {
    const firstChange = lines.findIndex((l, j) => j >= i && l.op !== ' ');
    if (firstChange === -1) break;
    const start = Math.max(i, firstChange - context);
    // Extend the hunk while the next change is within 2×context unchanged lines.
    let end = firstChange;
    for (let j = firstChange; j < lines.length; j++) {
      if (lines[j]!.op !== ' ') end = j;
      else if (j - end > 2 * context) break;
    }
    const stop = Math.min(lines.length, end + context + 1);
    const hunk = lines.slice(start, stop);
    const oldCount = hunk.filter((l) => l.op !== '+').length;
    const newCount = hunk.filter((l) => l.op !== '-').length;
    const oldStart =
      oldCount === 0 ? hunk[0]!.oldLine - 1 : hunk.find((l) => l.op !== '+')!.oldLine;
    const newStart =
      newCount === 0 ? hunk[0]!.newLine - 1 : hunk.find((l) => l.op !== '-')!.newLine;
    out.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`);
    for (const l of hunk) out.push(`${l.op}${l.text}`);
    i = stop;
  }
  return `${out.join('\n')}\n`;
}

function range(start: number, count: number): string {
  return count === 1 ? String(start) : `${start},${count}`;
}
