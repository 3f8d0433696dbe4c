// Git's object formats, read and written in Node (gitformat-pack(5), gitformat-index… the
// object and tree encodings): what the executor needs to lay a fetched commit out and stage the
// steps' changes without starting git for each (see node-workspace.ts).
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync, inflateSync } from 'node:zlib';

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

const TYPES_BY_CODE: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;

export interface GitObject {
  readonly type: ObjectType;
  readonly data: Buffer;
}

/** git's object id: SHA-1 of `<type> <size>\0<content>`. */
export function objectId(type: ObjectType, data: Buffer): string {
  return createHash('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
}

export const TREE_MODE = '40000';
export const GITLINK_MODE = '160000';
export const SYMLINK_MODE = '120000';
export const FILE_MODE = '100644';
export const EXECUTABLE_MODE = '100755';

export interface TreeEntry {
  readonly mode: string;
  /** The name's bytes as UTF-8 text (see `parseTree` for names that are not). */
  readonly name: string;
  readonly id: string;
}

/**
 * A tree's entries. `rawNames` is false when some name is not valid UTF-8: its text would not
 * write the same bytes back, and the caller leaves such a tree to git.
 */
export function parseTree(data: Buffer): { entries: TreeEntry[]; rawNames: boolean } {
  const entries: TreeEntry[] = [];
  let rawNames = true;
  for (let at = 0; at < data.length;) {
    const space = data.indexOf(0x20, at);
    const nul = data.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > data.length) throw new Error('malformed tree object');
    const nameBytes = data.subarray(space + 1, nul);
    const name = nameBytes.toString('utf8');
    if (!Buffer.from(name, 'utf8').equals(nameBytes)) rawNames = false;
    entries.push({
      mode: data.toString('latin1', at, space),
      name,
      id: data.toString('hex', nul + 1, nul + 21),
    });
    at = nul + 21;
  }
  return { entries, rawNames };
}

/** Git's order of tree entries: by name bytes, a subtree's name compared as if it ended in "/". */
function sortKey(entry: TreeEntry): Buffer {
  return Buffer.from(entry.mode === TREE_MODE ? `${entry.name}/` : entry.name, 'utf8');
}

/** A tree object's content; entries in any order. */
export function serializeTree(entries: readonly TreeEntry[]): Buffer {
  const keyed = entries.map((entry) => ({ entry, key: sortKey(entry) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const { entry } of keyed) {
    parts.push(Buffer.from(`${entry.mode} ${entry.name}\0`, 'utf8'), Buffer.from(entry.id, 'hex'));
  }
  return Buffer.concat(parts);
}

/** A commit's tree, from its text. */
export function commitTree(data: Buffer): string {
  const match = /^tree ([0-9a-f]{40})\n/.exec(data.toString('latin1', 0, 46));
  if (!match) throw new Error('malformed commit object');
  return match[1]!;
}

/** Writes an object loose into `gitDir/objects` (temporary file, then rename); returns its id. */
export async function writeLooseObject(
  gitDir: string,
  type: ObjectType,
  data: Buffer,
): Promise<string> {
  const header = Buffer.from(`${type} ${data.length}\0`, 'latin1');
  const id = createHash('sha1').update(header).update(data).digest('hex');
  const dir = join(gitDir, 'objects', id.slice(0, 2));
  await mkdir(dir, { recursive: true });
  const path = join(dir, id.slice(2));
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, deflateSync(Buffer.concat([header, data]), { level: 1 }), {
    mode: 0o444,
  });
  await rename(temporary, path);
  return id;
}

export interface PackLimits {
  /** Refuse (return null) when the inflated objects would exceed this many bytes. */
  readonly maxInflatedBytes: number;
}

export interface ReadPack {
  /** Every object of the pack by id, deltas resolved. */
  readonly objects: Map<string, GitObject>;
  /** For the `.idx`: each entry's id, offset and the CRC-32 of its bytes. */
  readonly entries: readonly { id: string; offset: number; crc: number }[];
  readonly checksum: Buffer;
}

/** A pack that is not well formed: what is wrong with it. */
export class DamagedPackError extends Error {
  override readonly name = 'DamagedPackError';
}

/** Reads a variable-length size: 7 bits a byte, least significant first, high bit = more. */
function varint(buf: Buffer, at: number): { value: number; at: number } {
  let value = 0;
  let shift = 0;
  let byte: number;
  do {
    if (at >= buf.length) throw new DamagedPackError('delta truncated');
    byte = buf[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return { value, at };
}

/** Applies a git delta (copy and insert instructions) to its base. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  const source = varint(delta, 0);
  if (source.value !== base.length) throw new DamagedPackError('delta base size mismatch');
  const target = varint(delta, source.at);
  const out = Buffer.allocUnsafe(target.value);
  let written = 0;
  let at = target.at;
  while (at < delta.length) {
    const op = delta[at++]!;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset += delta[at++]! * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (1 << (4 + i))) size += delta[at++]! * 2 ** (8 * i);
      if (size === 0) size = 0x10000;
      if (offset + size > base.length || written + size > out.length)
        throw new DamagedPackError('delta copies outside its base or target');
      written += base.copy(out, written, offset, offset + size);
    } else if (op > 0) {
      if (at + op > delta.length || written + op > out.length)
        throw new DamagedPackError('delta inserts past its end');
      written += delta.copy(out, written, at, at + op);
      at += op;
    } else {
      throw new DamagedPackError('delta has a reserved instruction');
    }
  }
  if (written !== out.length) throw new DamagedPackError('delta result size mismatch');
  return out;
}

function inflateEntry(pack: Buffer, at: number, end: number, size: number) {
  const { buffer, engine } = inflateSync(pack.subarray(at, end), { info: true }) as unknown as {
    buffer: Buffer;
    engine: { bytesWritten: number };
  };
  if (buffer.length !== size) throw new DamagedPackError('pack entry size mismatch');
  return { data: buffer, next: at + engine.bytesWritten };
}

/**
 * The objects of a whole pack (version 2 or 3), with offset and ref deltas resolved against
 * objects of the same pack (a fetch without `have`s is never thin). Returns null when the
 * inflated objects would exceed the limit; throws DamagedPackError for a pack that is not well
 * formed (header, checksum, truncation, bytes after its last object, a delta whose base is absent).
 */
export function readPack(pack: Buffer, limits: PackLimits): ReadPack | null {
  if (pack.length < 32 || pack.toString('latin1', 0, 4) !== 'PACK')
    throw new DamagedPackError('not a pack');
  const version = pack.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new DamagedPackError(`pack version ${version}`);
  const count = pack.readUInt32BE(8);
  const end = pack.length - 20;
  const checksum = pack.subarray(end);
  if (!createHash('sha1').update(pack.subarray(0, end)).digest().equals(checksum))
    throw new DamagedPackError('pack checksum mismatch (cut short or corrupted)');
  const byOffset = new Map<number, GitObject>();
  const objects = new Map<string, GitObject>();
  const entries: { id: string; offset: number; crc: number }[] = [];
  let inflated = 0;
  let at = 12;
  for (let i = 0; i < count; i++) {
    const offset = at;
    if (at >= end) throw new DamagedPackError('pack truncated');
    let byte = pack[at++]!;
    const code = (byte >> 4) & 7;
    let size = byte & 0x0f;
    let shift = 4;
    while (byte & 0x80) {
      if (at >= end) throw new DamagedPackError('pack truncated');
      byte = pack[at++]!;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    }
    let object: GitObject;
    if (code === OFS_DELTA || code === REF_DELTA) {
      let base: GitObject | undefined;
      if (code === OFS_DELTA) {
        if (at >= end) throw new DamagedPackError('pack truncated');
        byte = pack[at++]!;
        let distance = byte & 0x7f;
        while (byte & 0x80) {
          if (at >= end) throw new DamagedPackError('pack truncated');
          byte = pack[at++]!;
          distance = (distance + 1) * 128 + (byte & 0x7f);
        }
        base = byOffset.get(offset - distance);
      } else {
        base = objects.get(pack.toString('hex', at, at + 20));
        at += 20;
      }
      if (!base) throw new DamagedPackError('a delta whose base is not in the pack');
      const delta = inflateEntry(pack, at, end, size);
      at = delta.next;
      object = { type: base.type, data: applyDelta(base.data, delta.data) };
    } else {
      const type = TYPES_BY_CODE[code];
      if (type === undefined) throw new DamagedPackError(`pack entry of unknown type ${code}`);
      const whole = inflateEntry(pack, at, end, size);
      at = whole.next;
      object = { type, data: whole.data };
    }
    inflated += object.data.length;
    if (inflated > limits.maxInflatedBytes) return null;
    const id = objectId(object.type, object.data);
    byOffset.set(offset, object);
    objects.set(id, object);
    entries.push({ id, offset, crc: crc32(pack.subarray(offset, at)) });
  }
  if (at !== end) throw new DamagedPackError('pack has bytes after its last object');
  return { objects, entries, checksum };
}

/** The version-2 `.idx` git needs beside a pack it did not write itself (offsets below 2 GiB). */
export function packIndex(
  entries: readonly { id: string; offset: number; crc: number }[],
  packChecksum: Buffer,
): Buffer {
  const sorted = [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const n = sorted.length;
  const out = Buffer.alloc(8 + 256 * 4 + n * 28 + 20);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  const fanout = new Array<number>(256).fill(0);
  for (const e of sorted) fanout[parseInt(e.id.slice(0, 2), 16)]!++;
  let at = 8;
  let total = 0;
  for (let i = 0; i < 256; i++) {
    total += fanout[i]!;
    at = out.writeUInt32BE(total, at);
  }
  for (const e of sorted) at += out.write(e.id, at, 'hex');
  for (const e of sorted) at = out.writeUInt32BE(e.crc >>> 0, at);
  for (const e of sorted) {
    if (e.offset >= 0x80000000) throw new Error('pack too large for a simple index');
    at = out.writeUInt32BE(e.offset, at);
  }
  at += packChecksum.copy(out, at);
  const body = out.subarray(0, at);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

/** One path of an index, with the stat data git compares to notice a change. */
export interface IndexEntry {
  readonly path: string;
  readonly mode: string;
  readonly id: string;
  /** Not checked out (a limited checkout): git takes it as unchanged; its stats are zero. */
  readonly skipWorktree?: boolean;
  readonly stats: {
    readonly ctimeNs: bigint;
    readonly mtimeNs: bigint;
    readonly dev: bigint;
    readonly ino: bigint;
    readonly uid: bigint;
    readonly gid: bigint;
    readonly size: bigint;
  };
}

const U32 = 0xffffffffn;
const NS = 1_000_000_000n;

/** Index entry flags: the extended flags follow; of those, skip-worktree. */
const EXTENDED_FLAG = 0x4000;
const SKIP_WORKTREE_FLAG = 0x4000;

/**
 * An index file (no extensions) of the entries, which are sorted here: version 2, or version 3
 * when an entry is skip-worktree (which needs the extended flags).
 */
export function indexFile(entries: readonly IndexEntry[]): Buffer {
  const keyed = entries.map((entry) => ({ entry, path: Buffer.from(entry.path, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.path, b.path));
  const extended = entries.some((entry) => entry.skipWorktree);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.write('DIRC', 0, 'latin1');
  header.writeUInt32BE(extended ? 3 : 2, 4);
  header.writeUInt32BE(keyed.length, 8);
  parts.push(header);
  for (const { entry, path } of keyed) {
    // 62 bytes of fixed fields (64 with extended flags), the path, then 1–8 NULs to a multiple of 8.
    const fixed = entry.skipWorktree ? 64 : 62;
    const out = Buffer.alloc((fixed + path.length + 8) & ~7);
    const s = entry.stats;
    const fields = [
      s.ctimeNs / NS,
      s.ctimeNs % NS,
      s.mtimeNs / NS,
      s.mtimeNs % NS,
      s.dev,
      s.ino,
      BigInt(parseInt(entry.mode, 8)),
      s.uid,
      s.gid,
      s.size,
    ];
    fields.forEach((value, i) => out.writeUInt32BE(Number(value & U32), i * 4));
    out.write(entry.id, 40, 'hex');
    const nameLength = Math.min(path.length, 0xfff);
    if (entry.skipWorktree) {
      out.writeUInt16BE(EXTENDED_FLAG | nameLength, 60);
      out.writeUInt16BE(SKIP_WORKTREE_FLAG, 62);
    } else {
      out.writeUInt16BE(nameLength, 60);
    }
    path.copy(out, fixed);
    parts.push(out);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}
