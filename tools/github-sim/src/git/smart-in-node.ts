// The two smart-HTTP requests a campaign makes of every repository, answered in Node: the
// executor's one-request shallow fetch of a commit, and the reconciler's push of one branch with
// a pack of whole objects. Each costs git several processes (upload-pack and pack-objects;
// receive-pack, unpack-objects and rev-list), which at 10,000 repositories was most of the
// simulator's CPU. Anything else — another request shape, a delta in the pack, a ref that is not
// where the client thinks, a missing object — returns null, and git answers it as before, so git
// stays the reference for every error.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ObjectReader } from './batch-object-reader.js';
import { parseTree } from './batch-object-reader.js';
import {
  commitLinks,
  packIndex,
  parsePack,
  writePack,
  type ObjectType,
  type PackObject,
} from './node-pack.js';

const OBJECT_ID = /^[0-9a-f]{40}$/;
const ZERO_ID = '0'.repeat(40);
const FLUSH = Buffer.from('0000', 'latin1');

export function pkt(data: string | Buffer): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([
    Buffer.from((body.length + 4).toString(16).padStart(4, '0'), 'latin1'),
    body,
  ]);
}

/** pkt-lines up to the first flush (null: malformed), and where the flush ends. */
function linesToFlush(body: Buffer, from = 0): { lines: string[]; end: number } | null {
  const lines: string[] = [];
  let at = from;
  while (at + 4 <= body.length) {
    const length = parseInt(body.toString('latin1', at, at + 4), 16);
    if (
      Number.isNaN(length) ||
      (length > 0 && length < 4) ||
      at + Math.max(length, 4) > body.length
    )
      return null;
    if (length === 0) return { lines, end: at + 4 };
    lines.push(body.toString('utf8', at + 4, at + length).replace(/\n$/, ''));
    at += length;
  }
  return null;
}

/**
 * The branches a receive-pack request's commands name (from its pkt-lines before the pack), or
 * null when they cannot be read: then every ref is read back after the push.
 */
export function pushedBranches(body: Buffer): string[] | null {
  const head = linesToFlush(body);
  if (head === null) return null;
  const refs = head.lines.map((line) => line.split('\0')[0]!.trimEnd().split(' ')[2]);
  if (refs.some((r) => r === undefined)) return null;
  const prefix = 'refs/heads/';
  return refs.filter((r) => r!.startsWith(prefix)).map((r) => r!.slice(prefix.length));
}

const UPLOAD_CAPABILITIES = /^(shallow|no-progress|ofs-delta|thin-pack|agent=\S*)$/;

/**
 * `want <commit> <capabilities>`, `deepen 1`, flush, `done`, without side-band: the answer is the
 * commit's `shallow` line, a flush, `NAK` and a pack of the commit, its trees and its blobs, as
 * upload-pack gives it.
 */
export async function uploadPackInNode(reader: ObjectReader, body: Buffer): Promise<Buffer | null> {
  const head = linesToFlush(body);
  if (head === null || head.lines.length !== 2) return null;
  const [want, deepen] = head.lines as [string, string];
  const words = want.split(' ');
  if (words[0] !== 'want' || !OBJECT_ID.test(words[1] ?? '')) return null;
  if (!words.slice(2).every((c) => UPLOAD_CAPABILITIES.test(c))) return null;
  if (deepen !== 'deepen 1') return null;
  if (!body.subarray(head.end).equals(pkt('done\n'))) return null;
  const commitId = words[1]!;

  const [commit] = await reader.read('contents', [commitId]);
  if (commit?.type !== 'commit' || commit.data === undefined) return null;
  const objects: PackObject[] = [{ type: 'commit', data: commit.data }];
  const { tree } = commitLinks(commit.data);
  const seen = new Set<string>([commitId]);
  let trees = [tree];
  while (trees.length > 0) {
    const fresh = trees.filter((t) => !seen.has(t));
    fresh.forEach((t) => seen.add(t));
    const read = await reader.read('contents', fresh);
    const blobs: string[] = [];
    trees = [];
    for (const o of read) {
      if (o?.type !== 'tree' || o.data === undefined) return null;
      objects.push({ type: 'tree', data: o.data });
      for (const e of parseTree(o.data)) {
        if (e.type === 'commit' || seen.has(e.sha)) continue;
        if (e.type === 'tree') trees.push(e.sha);
        else {
          seen.add(e.sha);
          blobs.push(e.sha);
        }
      }
    }
    for (const o of await reader.read('contents', blobs)) {
      if (o?.type !== 'blob' || o.data === undefined) return null;
      objects.push({ type: 'blob', data: o.data });
    }
  }
  return Buffer.concat([
    // git lists the commit at depth 1 as shallow even when it has no parents (and without LF).
    pkt(`shallow ${commitId}`),
    FLUSH,
    pkt('NAK\n'),
    writePack(objects),
  ]);
}

const RECEIVE_CAPABILITIES = /^(report-status|side-band-64k|quiet|ofs-delta|agent=\S*)$/;

/** What git check-ref-format accepts, for branches (a stricter subset). */
function plainBranch(ref: string): boolean {
  if (!ref.startsWith('refs/heads/')) return false;
  const name = ref.slice('refs/heads/'.length);
  return (
    /^[A-Za-z0-9._/-]+$/.test(name) &&
    !name.split('/').some((c) => c === '' || c.startsWith('.') || c.endsWith('.lock')) &&
    !name.includes('..') &&
    !name.endsWith('.') &&
    !name.startsWith('-')
  );
}

/** The branch's value, ZERO_ID when absent; null when git should look (a symbolic ref). */
async function readBranch(gitDir: string, ref: string): Promise<string | null> {
  const loose = await readFile(join(gitDir, ref), 'latin1').catch(() => undefined);
  if (loose !== undefined) {
    const value = loose.trim();
    return OBJECT_ID.test(value) ? value : null;
  }
  const packed = await readFile(join(gitDir, 'packed-refs'), 'latin1').catch(() => '');
  for (const line of packed.split('\n')) {
    if (line.endsWith(` ${ref}`) && OBJECT_ID.test(line.slice(0, 40))) return line.slice(0, 40);
  }
  return ZERO_ID;
}

/**
 * `<old> <new> refs/heads/<branch>` updates (no deletions) with report-status and optionally
 * side-band-64k, then a pack of whole objects that, with what the repository has, holds every
 * object the new commits need. The pack is stored with an index written here, each branch is
 * moved under git's own lock file, and the report is what receive-pack sends. The branches
 * updated are returned for the simulator's state.
 */
export async function receivePackInNode(
  gitDir: string,
  reader: ObjectReader,
  body: Buffer,
): Promise<{ reply: Buffer; branches: string[] } | null> {
  const head = linesToFlush(body);
  if (head === null || head.lines.length === 0) return null;
  const [first, ...rest] = head.lines as [string, ...string[]];
  const nul = first.indexOf('\0');
  if (nul < 0) return null;
  const capabilities = first
    .slice(nul + 1)
    .trim()
    .split(' ')
    .filter(Boolean);
  if (!capabilities.includes('report-status')) return null;
  if (!capabilities.every((c) => RECEIVE_CAPABILITIES.test(c))) return null;
  const updates: { old: string; new: string; ref: string }[] = [];
  for (const line of [first.slice(0, nul), ...rest]) {
    const [oldId, newId, ref, extra] = line.split(' ');
    if (extra !== undefined || ref === undefined || !plainBranch(ref)) return null;
    if (!OBJECT_ID.test(oldId!) || !OBJECT_ID.test(newId!) || newId === ZERO_ID) return null;
    if (updates.some((u) => u.ref === ref)) return null;
    updates.push({ old: oldId!, new: newId!, ref });
  }
  for (const u of updates) if ((await readBranch(gitDir, u.ref)) !== u.old) return null;

  const packBytes = body.subarray(head.end);
  let parsed;
  try {
    parsed = parsePack(packBytes);
  } catch {
    return null;
  }
  if (parsed === null) return null;
  const inPack = new Map(parsed.objects.map((o) => [o.id, o]));

  // Everything the new commits need is in the pack or in the repository.
  const needed = new Set<string>();
  const expect = new Map<string, ObjectType>();
  const walked = new Set<string>();
  const walk = (id: string, type: ObjectType): boolean => {
    const o = inPack.get(id);
    if (o === undefined) {
      needed.add(id);
      expect.set(id, type);
      return true;
    }
    if (o.type !== type) return false;
    if (walked.has(id)) return true;
    walked.add(id);
    if (type === 'commit') {
      const links = commitLinks(o.data);
      if (!OBJECT_ID.test(links.tree)) return false;
      return walk(links.tree, 'tree') && links.parents.every((p) => walk(p, 'commit'));
    }
    if (type === 'tree') {
      // Submodules (gitlinks) point outside the repository.
      return parseTree(o.data).every((e) => e.type === 'commit' || walk(e.sha, e.type));
    }
    return true;
  };
  for (const u of updates) if (!walk(u.new, 'commit')) return null;
  const ids = [...needed];
  const present = await reader.read('info', ids).catch(() => null);
  if (present === null || present.some((o, i) => o?.type !== expect.get(ids[i]!))) return null;

  if (parsed.objects.length > 0) {
    const name = `pack-${parsed.checksum.toString('hex')}`;
    const packDir = join(gitDir, 'objects', 'pack');
    const packPath = join(packDir, `${name}.pack`);
    if (!(await stat(join(packDir, `${name}.idx`)).catch(() => null))) {
      const tmp = `.tmp-${randomBytes(6).toString('hex')}`;
      await mkdir(packDir, { recursive: true });
      await writeFile(join(packDir, `${tmp}.pack`), packBytes, { mode: 0o444 });
      await rename(join(packDir, `${tmp}.pack`), packPath);
      await writeFile(join(packDir, `${tmp}.idx`), packIndex(parsed.objects, parsed.checksum), {
        mode: 0o444,
      });
      await rename(join(packDir, `${tmp}.idx`), join(packDir, `${name}.idx`));
    }
    reader.remember?.(parsed.objects);
  }

  // Each branch under git's lock file, checked again once held: a git push may be racing us.
  const moved: string[] = [];
  for (const u of updates) {
    const path = join(gitDir, u.ref);
    await mkdir(dirname(path), { recursive: true });
    const lock = await open(`${path}.lock`, 'wx').catch(() => null);
    if (lock === null) return moved.length === 0 ? null : report(updates, moved, capabilities);
    try {
      if ((await readBranch(gitDir, u.ref)) !== u.old) {
        await lock.close();
        await rm(`${path}.lock`, { force: true });
        if (moved.length === 0) return null;
        continue;
      }
      await lock.writeFile(`${u.new}\n`);
      await lock.close();
      await rename(`${path}.lock`, path);
      moved.push(u.ref);
    } catch (err) {
      await rm(`${path}.lock`, { force: true });
      throw err;
    }
  }
  return report(updates, moved, capabilities);
}

function report(
  updates: readonly { ref: string }[],
  moved: readonly string[],
  capabilities: readonly string[],
): { reply: Buffer; branches: string[] } {
  const status = Buffer.concat([
    pkt('unpack ok\n'),
    ...updates.map((u) =>
      pkt(moved.includes(u.ref) ? `ok ${u.ref}\n` : `ng ${u.ref} failed to update ref\n`),
    ),
    FLUSH,
  ]);
  const reply = capabilities.includes('side-band-64k')
    ? Buffer.concat([pkt(Buffer.concat([Buffer.from([1]), status])), FLUSH])
    : status;
  return { reply, branches: moved.map((r) => r.slice('refs/heads/'.length)) };
}
