import { describe, expect, it } from '@jest/globals';
import { chunkRows, decodeCursor, encodeCursor, pageOf } from './pages.js';

const row = (i: number, note = '') => ({ repository: `r${String(i).padStart(3, '0')}`, note });

describe('cursors', () => {
  it('give back the key they hold, and refuse anything that is not one of ours', () => {
    const cursor = encodeCursor(['github.com/acme/api', 'hello/wörld']);
    expect(decodeCursor(cursor, 2)).toEqual(['github.com/acme/api', 'hello/wörld']);
    expect(decodeCursor(cursor, 1)).toBeNull();
    expect(decodeCursor('not a cursor', 2)).toBeNull();
    expect(decodeCursor(encodeCursor(['a']).slice(1), 1)).toBeNull();
    expect(decodeCursor(Buffer.from('[1, 2]').toString('base64url'), 2)).toBeNull();
  });
});

describe('chunkRows', () => {
  it('cuts at the row count and before the byte limit, keeping every row in order', () => {
    const rows = Array.from({ length: 25 }, (_, i) => row(i, 'x'.repeat(90)));
    const bySize = chunkRows(rows, 100, 1_000);
    expect(bySize.flat()).toEqual(rows);
    for (const chunk of bySize)
      expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(1_000);
    expect(bySize.length).toBeGreaterThan(2);
    expect(chunkRows(rows, 10, 1_000_000).map((c) => c.length)).toEqual([10, 10, 5]);
  });

  it('puts a row larger than the limit alone rather than losing it', () => {
    const rows = [row(1), row(2, 'y'.repeat(500)), row(3)];
    expect(chunkRows(rows, 10, 100)).toEqual([[rows[0]], [rows[1]], [rows[2]]]);
  });
});

describe('pageOf', () => {
  const keyOf = (r: { repository: string }) => [r.repository];

  it('names the cursor after the last row sent when more rows follow', () => {
    const rows = Array.from({ length: 6 }, (_, i) => row(i));
    const page = pageOf(rows, 5, keyOf);
    expect(page.rows).toEqual(rows.slice(0, 5));
    expect(decodeCursor(page.next!, 1)).toEqual(['r004']);
  });

  it('has no cursor on the last page', () => {
    const rows = Array.from({ length: 5 }, (_, i) => row(i));
    expect(pageOf(rows, 5, keyOf)).toEqual({ rows, next: null });
    expect(pageOf([], 5, keyOf)).toEqual({ rows: [], next: null });
  });

  it('stops early when the rows would not fit in a reply, and continues from there', () => {
    const rows = Array.from({ length: 101 }, (_, i) => row(i, 'z'.repeat(4_000)));
    const page = pageOf(rows, 100, keyOf);
    expect(page.rows.length).toBeLessThan(100);
    expect(decodeCursor(page.next!, 1)).toEqual([page.rows.at(-1)!.repository]);
  });
});
