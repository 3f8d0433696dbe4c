import { MAX_PAGE_ROWS, MAX_REPLY_BYTES } from '@campaigns/contracts';

/**
 * Room left in a reply for what surrounds its rows (`ok`, the cursor of the next page, a preview
 * head's fields other than problems): rows fill at most MAX_REPLY_BYTES minus this.
 */
export const REPLY_ENVELOPE_BYTES = 4 * 1024;

/** A cursor is the key of the last row sent, opaque to clients (base64url of its JSON). */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key a cursor holds, or null when it is not one of ours (or not `length` strings). */
export function decodeCursor(cursor: string, length: number): string[] | null {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  return Array.isArray(key) && key.length === length && key.every((k) => typeof k === 'string')
    ? (key as string[])
    : null;
}

/**
 * Splits rows into chunks of at most `maxRows` rows whose JSON takes at most `maxBytes` (each
 * chunk has at least one row: a row alone always fits, as event payloads bound every field).
 */
export function chunkRows<T>(
  rows: readonly T[],
  maxRows = MAX_PAGE_ROWS,
  maxBytes = MAX_REPLY_BYTES - REPLY_ENVELOPE_BYTES,
): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 2; // the brackets
  for (const row of rows) {
    const size = Buffer.byteLength(JSON.stringify(row)) + 1; // and its comma
    if (chunk.length > 0 && (chunk.length === maxRows || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 2;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * One page from rows read with `limit + 1` (the extra one tells whether more follow): the first
 * chunk of them, and the cursor after its last row when anything was left out.
 */
export function pageOf<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => readonly string[],
): { rows: T[]; next: string | null } {
  const [first = []] = chunkRows(rows.slice(0, limit), limit);
  const more = rows.length > first.length;
  return { rows: first, next: more ? encodeCursor(keyOf(first.at(-1)!)) : null };
}
