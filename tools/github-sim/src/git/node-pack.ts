// Pack files read and written in Node, for the two smart-HTTP requests the simulator answers
// without git (see smart-in-node.ts): the objects of a pack whose entries are all whole (no
// deltas), a pack of whole objects, and the version-2 index git needs beside a pack it did not
// write itself. gitformat-pack(5). The simulator keeps its own copy of what
// `@campaigns/codehost` also writes (entry headers): it stands in for GitHub when the
// production adapter is tested, so it shares no protocol code with it.
import { createHash } from 'node:crypto';
import { crc32, deflateSync, inflateSync } from 'node:zlib';

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';
const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
const TYPES_BY_CODE: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };

export interface PackObject {
  readonly type: ObjectType;
  readonly data: Buffer;
}

export interface ParsedObject extends PackObject {
  readonly id: string;
  /** Where its entry starts in the pack, and the CRC-32 of the entry's bytes (for the index). */
  readonly offset: number;
  readonly crc: number;
}

/** git's object id: SHA-1 of `<type> <size>\0<content>`. */
export function objectId(type: ObjectType, data: Buffer): string {
  return createHash('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
}

/** A pack of whole objects (no deltas), version 2, with its trailing checksum. */
export function writePack(objects: readonly PackObject[]): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.length, 8);
  parts.push(header);
  for (const o of objects) {
    parts.push(entryHeader(TYPE_CODES[o.type], o.data.length), deflateSync(o.data, { level: 1 }));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

function entryHeader(code: number, size: number): Buffer {
  const bytes: number[] = [];
  let byte = (code << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

/**
 * The objects of a pack whose entries are all whole objects, with their ids; null when it holds a
 * delta (git handles those). Throws on a pack that is not well formed (bad header, checksum,
 * truncated or trailing bytes).
 */
export function parsePack(pack: Buffer): { objects: ParsedObject[]; checksum: Buffer } | null {
  if (pack.length < 32 || pack.toString('latin1', 0, 4) !== 'PACK') throw new Error('not a pack');
  const version = pack.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new Error(`pack version ${version}`);
  const count = pack.readUInt32BE(8);
  const end = pack.length - 20;
  const checksum = pack.subarray(end);
  if (!createHash('sha1').update(pack.subarray(0, end)).digest().equals(checksum))
    throw new Error('pack checksum mismatch');
  const objects: ParsedObject[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    const offset = at;
    if (at >= end) throw new Error('pack truncated');
    let byte = pack[at++]!;
    const code = (byte >> 4) & 7;
    let size = byte & 0x0f;
    let shift = 4;
    while (byte & 0x80) {
      if (at >= end) throw new Error('pack truncated');
      byte = pack[at++]!;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    const type = TYPES_BY_CODE[code];
    if (type === undefined) return null; // a delta (6, 7) or a reserved type
    const { buffer: data, engine } = inflateSync(pack.subarray(at, end), {
      info: true,
    }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    if (data.length !== size) throw new Error('pack entry size mismatch');
    at += engine.bytesWritten;
    objects.push({
      type,
      data,
      id: objectId(type, data),
      offset,
      crc: crc32(pack.subarray(offset, at)),
    });
  }
  if (at !== end) throw new Error('pack has bytes after its last object');
  return { objects, checksum };
}

/** The version-2 `.idx` of a pack (offsets below 2 GiB). */
export function packIndex(objects: readonly ParsedObject[], packChecksum: Buffer): Buffer {
  const sorted = [...objects].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const n = sorted.length;
  const out = Buffer.alloc(8 + 256 * 4 + n * (20 + 4 + 4) + 20);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  let at = 8;
  const fanout = new Array<number>(256).fill(0);
  for (const o of sorted) fanout[parseInt(o.id.slice(0, 2), 16)]!++;
  let total = 0;
  for (let i = 0; i < 256; i++) {
    total += fanout[i]!;
    out.writeUInt32BE(total, at);
    at += 4;
  }
  for (const o of sorted) at += out.write(o.id, at, 'hex');
  for (const o of sorted) at = out.writeUInt32BE(o.crc >>> 0, at);
  for (const o of sorted) {
    if (o.offset >= 0x80000000) throw new Error('pack too large for a simple index');
    at = out.writeUInt32BE(o.offset, at);
  }
  at += packChecksum.copy(out, at);
  const body = out.subarray(0, at);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

/** A commit's tree and parents, from its text. */
export function commitLinks(data: Buffer): { tree: string; parents: string[] } {
  const head = data.toString('latin1', 0, Math.min(data.length, 64 * 1024)).split('\n\n')[0]!;
  let tree = '';
  const parents: string[] = [];
  for (const line of head.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
  }
  return { tree, parents };
}
