import { open } from 'node:fs/promises';
import {
  formatDiagnostic,
  MAX_SPEC_BYTES,
  specSizeError,
  type SpecDiagnostic,
} from '@campaigns/campaign-spec';
import { CliFailure } from './spec-service-client.js';

/** Bytes read at a time; a spec is read up to one chunk past the size limit at most. */
const CHUNK_BYTES = 64 * 1024;

/** `-f -`: the spec comes from stdin. */
export const STDIN_FILE = '-';

/** The name a spec goes by in diagnostics and in spec-service: `<stdin>` for `-f -`. */
export function specDisplayName(file: string): string {
  return file === STDIN_FILE ? '<stdin>' : file;
}

/**
 * The text of a spec file, or the size error when it is over the limit. A regular file over the
 * limit is not read at all; anything else (a pipe such as /dev/stdin or `<(…)`, a device) is read
 * up to the limit and no further, so an endless stream is refused too. A byte order mark is
 * dropped: editors do not count it as a column. Errors opening or reading the file are thrown as
 * they come (ENOENT, EACCES, EISDIR, …).
 */
export async function readSpecFile(
  file: string,
  stdin?: NodeJS.ReadableStream,
): Promise<{ text: string } | { tooLarge: SpecDiagnostic }> {
  if (file === STDIN_FILE) {
    if (stdin === undefined) throw new Error('stdin is not available here');
    return readSpecStream(stdin);
  }
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (info.isDirectory()) {
      throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    }
    const tooLarge = info.isFile() ? specSizeError(info.size) : undefined;
    if (tooLarge) return { tooLarge };
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_SPEC_BYTES) return { tooLarge: specSizeError(total, { readUpTo: true })! };
    }
    return { text: decode(chunks, total) };
  } finally {
    await handle.close();
  }
}

/**
 * A spec from a stream (`-f -`), read like a pipe: up to the size limit and no further, so an
 * endless stream is refused too.
 */
async function readSpecStream(
  stream: NodeJS.ReadableStream,
): Promise<{ text: string } | { tooLarge: SpecDiagnostic }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(bytes);
    total += bytes.length;
    if (total > MAX_SPEC_BYTES) {
      // Stop reading: whatever writes the rest gets EPIPE, as with a pipe read by a file name.
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return { tooLarge: specSizeError(total, { readUpTo: true })! };
    }
  }
  return { text: decode(chunks, total) };
}

/** The text of the bytes, without a byte order mark: editors do not count it as a column. */
function decode(chunks: Buffer[], total: number): string {
  const text = Buffer.concat(chunks, total).toString('utf8');
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Why a spec file cannot be read, in words, from the error `readSpecFile` threw. */
export function unreadableReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (error as Error).message;
}

/**
 * The text of a spec file for apply and preview. A file over the spec size limit is a FILE:1:1
 * diagnostic and exit 1; an unreadable file is exit 2.
 */
export async function readSpecText(
  command: string,
  file: string,
  stdin?: NodeJS.ReadableStream,
): Promise<string> {
  const shown = specDisplayName(file);
  let read: Awaited<ReturnType<typeof readSpecFile>>;
  try {
    read = await readSpecFile(file, stdin);
  } catch (error) {
    throw new CliFailure(
      `campaign ${command}: cannot read ${shown}: ${unreadableReason(error)}`,
      2,
      false,
    );
  }
  if ('tooLarge' in read) throw new CliFailure(formatDiagnostic(shown, read.tooLarge), 1, false);
  return read.text;
}
