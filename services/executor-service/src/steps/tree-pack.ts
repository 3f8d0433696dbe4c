import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { gitBuffer } from './git.js';
import type { RawEntry } from './workspace-diff.js';

const PACK_TYPES = { commit: 1, tree: 2, blob: 3, tag: 4 } as const;
type ObjectType = keyof typeof PACK_TYPES;

interface LooseObject {
  readonly type: ObjectType;
  readonly content: Buffer;
}

/**
 * The loose objects in the workspace's own `.git/objects`. The workspace borrows the store's
 * objects through `alternates`, and git writes an object only when no object store it can see
 * has it, so these are what `git add`/`write-tree` created.
 */
async function looseObjectPaths(gitDir: string): Promise<Map<string, string>> {
  const objects = join(gitDir, 'objects');
  const found = new Map<string, string>();
  for (const dir of await readdir(objects)) {
    if (!/^[0-9a-f]{2}$/.test(dir)) continue;
    for (const file of await readdir(join(objects, dir))) {
      if (/^[0-9a-f]{38}$/.test(file)) found.set(dir + file, join(objects, dir, file));
    }
  }
  return found;
}

async function readLoose(path: string): Promise<LooseObject> {
  const raw = inflateSync(await readFile(path));
  const nul = raw.indexOf(0);
  const type = raw.toString('latin1', 0, nul).split(' ')[0] as ObjectType;
  if (!(type in PACK_TYPES)) throw new Error(`unknown git object type "${type}" in ${path}`);
  return { type, content: raw.subarray(nul + 1) };
}

interface TreeEntry {
  readonly mode: string;
  readonly name: string;
  readonly id: string;
}

function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (let at = 0; at < content.length;) {
    const space = content.indexOf(0x20, at);
    const nul = content.indexOf(0, space);
    entries.push({
      mode: content.toString('latin1', at, space),
      name: content.toString('utf8', space + 1, nul),
      id: content.toString('hex', nul + 1, nul + 21),
    });
    at = nul + 21;
  }
  return entries;
}

/** A version 2 pack of whole (undeltified) objects: self-contained, nothing thin. */
export function buildPack(objects: readonly LooseObject[]): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [header];
  for (const { type, content } of objects) {
    // Type and size: 3 type bits and 4 size bits, then 7 size bits a byte, high bit = more.
    let size = content.length;
    const bytes = [(PACK_TYPES[type] << 4) | (size & 0x0f)];
    size = Math.floor(size / 16);
    while (size > 0) {
      bytes[bytes.length - 1]! |= 0x80;
      bytes.push(size & 0x7f);
      size = Math.floor(size / 128);
    }
    parts.push(Buffer.from(bytes), deflateSync(content));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

const GITLINK = '160000';

/**
 * A pack of exactly the objects that `tree` has and the base commit has not: the new blobs and
 * trees the steps' staging wrote into the workspace, found by walking `tree` through them, so
 * objects of earlier steps that the final tree dropped stay out. When a changed path's object
 * was not written because the store already had it (content that some other fetched commit
 * holds), git itself lists the objects (`pack-objects --revs <tree> --not <base>`).
 */
export async function newObjectsPack(
  workspaceDir: string,
  tree: string,
  baseRevision: string,
  changes: readonly RawEntry[],
): Promise<Buffer> {
  const loose = await looseObjectPaths(join(workspaceDir, '.git'));
  const included = new Map<string, LooseObject>();
  const reachedDirs = new Set<string>();
  const storedTrees = new Set<string>();
  const pending: { id: string; path: string }[] = [];
  if (loose.has(tree)) pending.push({ id: tree, path: '' });
  while (pending.length > 0) {
    const { id, path } = pending.pop()!;
    const object = await readLoose(loose.get(id)!);
    included.set(id, object);
    reachedDirs.add(path);
    for (const entry of parseTree(object.content)) {
      if (entry.mode === GITLINK) continue;
      const entryPath = path === '' ? entry.name : `${path}/${entry.name}`;
      const isTree = entry.mode === '40000';
      if (!loose.has(entry.id)) {
        if (isTree) storedTrees.add(entryPath);
        continue;
      }
      if (included.has(entry.id)) continue;
      if (isTree) pending.push({ id: entry.id, path: entryPath });
      else included.set(entry.id, await readLoose(loose.get(entry.id)!));
    }
  }
  if (!complete(changes, included, reachedDirs, storedTrees)) {
    return gitBuffer(['pack-objects', '--revs', '--stdout', '-q'], {
      cwd: workspaceDir,
      input: `${tree}\n--not\n${baseRevision}\n`,
    });
  }
  return buildPack([...included.values()]);
}

/**
 * Whether every changed path's directories and object are in the pack (or, for a rename or copy
 * of unchanged content, in the base). A directory that changed but was not written loose, or a
 * changed file whose object was not, means the store had it from elsewhere.
 */
function complete(
  changes: readonly RawEntry[],
  included: ReadonlyMap<string, LooseObject>,
  reachedDirs: ReadonlySet<string>,
  storedTrees: ReadonlySet<string>,
): boolean {
  if (changes.length > 0 && !reachedDirs.has('')) return false;
  for (const change of changes) {
    for (let dir = posix.dirname(change.path); dir !== '.'; dir = posix.dirname(dir)) {
      if (storedTrees.has(dir)) return false;
    }
    if (change.status === 'D' || change.newMode === GITLINK) continue;
    if (included.has(change.newId)) continue;
    if ((change.status === 'R' || change.status === 'C') && change.oldId === change.newId) continue;
    return false;
  }
  return true;
}
