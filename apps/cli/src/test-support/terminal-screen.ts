/**
 * What a terminal of `columns` shows after `output`: enough of a VT100 for what log-update writes
 * (cursor up/down/left, erase line, erase to its end, carriage return, new line), colours and
 * modes ignored. `wrapped` tells whether a line ever ran past the last column, which leaves a copy
 * behind on a real terminal when the region is redrawn.
 */
export function terminalScreen(output: string, columns: number) {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let wrapped = false;
  const line = () => (rows[row] ??= []);
  const moveTo = (r: number) => {
    row = Math.max(0, r);
    while (rows.length <= row) rows.push([]);
  };
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    if (ch === '\x1b') {
      const m = /^\[([?\d;]*)([A-Za-z])/.exec(output.slice(i + 1));
      if (m === null) continue;
      i += m[0].length;
      const n = m[1] === '' || m[1]!.startsWith('?') ? 1 : Number(m[1]!.split(';')[0]);
      if (m[2] === 'A') moveTo(row - n);
      else if (m[2] === 'B') moveTo(row + n);
      else if (m[2] === 'G') col = n - 1;
      else if (m[2] === 'D') col = Math.max(0, col - n);
      else if (m[2] === 'K' && m[1] === '2') rows[row] = [];
      else if (m[2] === 'K') line().length = Math.min(line().length, col);
      continue;
    }
    // A terminal's line discipline turns a new line into a carriage return and a line feed.
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      moveTo(row + 1);
      col = 0;
    } else {
      if (col >= columns) {
        wrapped = true;
        moveTo(row + 1);
        col = 0;
      }
      const cells = line();
      while (cells.length < col) cells.push(' ');
      cells[col++] = ch;
    }
  }
  const lines = rows.map((cells) => cells.join('').trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return { lines, wrapped };
}

/** A stand-in for stderr's terminal in process: what is written, and a width and height. */
export class CapturedTerminal {
  readonly isTTY = true;
  output = '';

  constructor(
    readonly columns = 80,
    readonly rows = 24,
  ) {}

  write(chunk: string | Uint8Array): boolean {
    this.output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }
}
