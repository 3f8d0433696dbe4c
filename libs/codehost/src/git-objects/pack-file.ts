// Git pack files (gitformat-pack(5)): "PACK", version, object count, the objects, and a SHA-1
// of everything before it. Appending an object leaves every earlier offset where it was, so the
// pack's ofs-deltas stay valid.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

const HEADER_BYTES = 12;
const TRAILER_BYTES = 20;
const OBJECT_TYPES = { commit: 1, tree: 2, blob: 3, tag: 4 } as const;

/** Not a pack this code can extend: what is wrong with it. */
export class PackFileError extends Error {
  override readonly name = 'PackFileError';
}

/** The number of objects a pack's header announces; throws PackFileError for anything else. */
export function packObjectCount(pack: Buffer): number {
  if (pack.length < HEADER_BYTES + TRAILER_BYTES || pack.toString('latin1', 0, 4) !== 'PACK') {
    throw new PackFileError('not a git pack file (no "PACK" header)');
  }
  const version = pack.readUInt32BE(4);
  if (version !== 2 && version !== 3) {
    throw new PackFileError(`unsupported pack version ${version}`);
  }
  const trailer = createHash('sha1').update(pack.subarray(0, pack.length - TRAILER_BYTES));
  if (!trailer.digest().equals(pack.subarray(pack.length - TRAILER_BYTES))) {
    throw new PackFileError('the pack checksum does not match its content');
  }
  return pack.readUInt32BE(8);
}

/** A pack holding `pack`'s objects and one more (undeltified), with header and checksum updated. */
export function appendObjectToPack(
  pack: Buffer,
  type: keyof typeof OBJECT_TYPES,
  content: Buffer,
): Buffer {
  const count = packObjectCount(pack);
  const body = pack.subarray(0, pack.length - TRAILER_BYTES);
  const header = Buffer.from(body.subarray(0, HEADER_BYTES));
  header.writeUInt32BE(count + 1, 8);
  const withObject = Buffer.concat([
    header,
    body.subarray(HEADER_BYTES),
    objectHeader(OBJECT_TYPES[type], content.length),
    deflateSync(content),
  ]);
  const trailer = createHash('sha1').update(withObject).digest();
  return Buffer.concat([withObject, trailer]);
}

/** The entry header: type in bits 4–6 of the first byte, the size in 4 then 7-bit groups. */
function objectHeader(type: number, size: number): Buffer {
  const bytes: number[] = [];
  let byte = (type << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}
