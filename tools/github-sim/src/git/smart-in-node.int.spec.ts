import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchObjectReader } from './batch-object-reader.js';
import { objectId, parsePack, writePack, type PackObject } from './node-pack.js';
import { receivePackInNode, uploadPackInNode } from './smart-in-node.js';

const git = (cwd: string, args: string[], input?: Buffer) =>
  execFileSync('git', args, {
    cwd,
    input,
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
const text = (cwd: string, args: string[]) => git(cwd, args).toString().trim();

function pkt(s: string): string {
  return (Buffer.byteLength(s) + 4).toString(16).padStart(4, '0') + s;
}

/** Splits an upload-pack answer into its pkt-lines and the pack after NAK. */
function splitAnswer(answer: Buffer): { lines: string[]; pack: Buffer } {
  const lines: string[] = [];
  let at = 0;
  for (;;) {
    const length = parseInt(answer.toString('latin1', at, at + 4), 16);
    if (length === 0) {
      lines.push('0000');
      at += 4;
      continue;
    }
    const line = answer.toString('latin1', at + 4, at + length);
    lines.push(line);
    at += length;
    if (line === 'NAK\n') return { lines, pack: answer.subarray(at) };
  }
}

/** Object ids in a pack, as git's own index-pack and verify-pack read it. */
function idsInPack(scratch: string, pack: Buffer): string[] {
  const repo = mkdtempSync(join(scratch, 'idx-'));
  git(repo, ['init', '-q', '--bare']);
  const name = git(repo, ['index-pack', '--stdin'], pack)
    .toString()
    .trim()
    .replace(/^pack\t/, '');
  const out = text(repo, ['verify-pack', '-v', join(repo, 'objects', 'pack', `pack-${name}.idx`)]);
  return out
    .split('\n')
    .filter((l) => /^[0-9a-f]{40} /.test(l))
    .map((l) => l.slice(0, 40))
    .sort();
}

describe('smart HTTP answered in Node, checked against git', () => {
  let scratch: string;
  let repo: string;
  let reader: BatchObjectReader;
  let base: string;
  let second: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'sim-smart-node-'));
    const work = join(scratch, 'work');
    git(scratch, ['init', '-q', '-b', 'main', work]);
    writeFileSync(join(work, 'README.md'), '# hello\n');
    execFileSync('mkdir', ['-p', join(work, 'src', 'deep')]);
    writeFileSync(join(work, 'src', 'a.txt'), 'a\n');
    writeFileSync(join(work, 'src', 'deep', 'b.bin'), Buffer.from([0, 1, 2, 255]));
    writeFileSync(join(work, 'same.txt'), 'a\n'); // the same blob twice
    const id = ['-c', 'user.name=t', '-c', 'user.email=t@example.com'];
    git(work, ['add', '-A']);
    git(work, [...id, 'commit', '-qm', 'first']);
    writeFileSync(join(work, 'README.md'), '# hello again\n');
    git(work, [...id, 'commit', '-qam', 'second']);
    repo = join(scratch, 'repo.git');
    git(scratch, ['clone', '-q', '--bare', work, repo]);
    base = text(repo, ['rev-parse', 'main~1']);
    second = text(repo, ['rev-parse', 'main']);
    reader = new BatchObjectReader(repo);
  });

  afterAll(() => {
    reader.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const wantBody = (commit: string, caps = 'shallow no-progress ofs-delta agent=campaigns') =>
    Buffer.from(`${pkt(`want ${commit} ${caps}\n`)}${pkt('deepen 1\n')}0000${pkt('done\n')}`);

  it.each([
    ['a commit with a parent', () => second],
    ['a root commit', () => base],
  ])(
    'answers a one-commit shallow fetch of %s as git does, with the same objects',
    async (_, commit) => {
      const body = wantBody(commit());
      const ours = await uploadPackInNode(reader, body);
      const theirs = git(repo, ['upload-pack', '--stateless-rpc', repo], body);
      const a = splitAnswer(ours!);
      const b = splitAnswer(theirs);
      expect(a.lines).toEqual(b.lines);
      expect(idsInPack(scratch, a.pack)).toEqual(idsInPack(scratch, b.pack));
    },
  );

  it('leaves every other request shape to git', async () => {
    const others = [
      wantBody(second, 'side-band-64k shallow'),
      wantBody(second, 'include-tag'),
      Buffer.from(
        `${pkt(`want ${second}\n`)}${pkt(`want ${base}\n`)}${pkt('deepen 1\n')}0000${pkt('done\n')}`,
      ),
      Buffer.from(`${pkt(`want ${second}\n`)}${pkt('deepen 2\n')}0000${pkt('done\n')}`),
      Buffer.from(
        `${pkt(`want ${second}\n`)}${pkt('deepen 1\n')}0000${pkt(`have ${base}\n`)}${pkt('done\n')}`,
      ),
      wantBody('1'.repeat(40)),
    ];
    for (const body of others) expect(await uploadPackInNode(reader, body)).toBeNull();
  });

  /** A commit on top of `parent` changing README.md, as whole objects. */
  function newCommit(parent: string, content: string): { objects: PackObject[]; commit: string } {
    const blob: PackObject = { type: 'blob', data: Buffer.from(content) };
    const parentTree = text(repo, ['rev-parse', `${parent}^{tree}`]);
    const entries = git(repo, ['cat-file', 'tree', parentTree]);
    // Replace README.md's id in the root tree (entries: "<mode> <name>\0<20 bytes>").
    const name = Buffer.from('100644 README.md\0');
    const at = entries.indexOf(name) + name.length;
    const tree = Buffer.from(entries);
    Buffer.from(objectId('blob', blob.data), 'hex').copy(tree, at);
    const treeObject: PackObject = { type: 'tree', data: tree };
    const commitObject: PackObject = {
      type: 'commit',
      data: Buffer.from(
        `tree ${objectId('tree', tree)}\nparent ${parent}\nauthor t <t@example.com> 1700000000 +0000\ncommitter t <t@example.com> 1700000000 +0000\n\nchange\n`,
      ),
    };
    return {
      objects: [commitObject, treeObject, blob],
      commit: objectId('commit', commitObject.data),
    };
  }

  const pushBody = (
    old: string,
    next: string,
    ref: string,
    pack: Buffer,
    caps = 'report-status side-band-64k agent=t',
  ) => Buffer.concat([Buffer.from(`${pkt(`${old} ${next} ${ref}\0${caps}\n`)}0000`), pack]);

  it('takes a push of whole objects: the pack and its index are what git reads, the branch moves, the report is receive-pack’s', async () => {
    const { objects, commit } = newCommit(second, '# pushed\n');
    const result = await receivePackInNode(
      repo,
      reader,
      pushBody('0'.repeat(40), commit, 'refs/heads/campaign/x', writePack(objects)),
    );
    expect(result!.branches).toEqual(['campaign/x']);
    const band = `\x01${pkt('unpack ok\n')}${pkt('ok refs/heads/campaign/x\n')}0000`;
    expect(result!.reply.toString('latin1')).toBe(`${pkt(band)}0000`);
    expect(text(repo, ['rev-parse', 'refs/heads/campaign/x'])).toBe(commit);
    expect(text(repo, ['show', `${commit}:README.md`])).toBe('# pushed');
    git(repo, ['fsck', '--full', '--strict']);
    for (const idx of readdirSync(join(repo, 'objects', 'pack')).filter((f) => f.endsWith('.idx')))
      git(repo, ['verify-pack', join(repo, 'objects', 'pack', idx)]);

    // The next push moves it from there (a force push: not a descendant).
    const again = newCommit(second, '# pushed again\n');
    const moved = await receivePackInNode(
      repo,
      reader,
      pushBody(
        commit,
        again.commit,
        'refs/heads/campaign/x',
        writePack(again.objects),
        'report-status',
      ),
    );
    expect(moved!.reply.toString('latin1')).toBe(
      `${pkt('unpack ok\n')}${pkt('ok refs/heads/campaign/x\n')}0000`,
    );
    expect(text(repo, ['rev-parse', 'refs/heads/campaign/x'])).toBe(again.commit);
  });

  it('leaves to git a push it cannot vouch for, changing nothing', async () => {
    const { objects, commit } = newCommit(second, '# refused\n');
    const branches = () => text(repo, ['for-each-ref', '--format=%(refname) %(objectname)']);
    const packs = () => readdirSync(join(repo, 'objects', 'pack')).sort();
    const before = { branches: branches(), packs: packs() };
    const zero = '0'.repeat(40);
    const cases = [
      // The branch is not where the client thinks.
      pushBody(second, commit, 'refs/heads/other', writePack(objects)),
      // An object the commit needs is neither in the pack nor in the repository.
      pushBody(zero, commit, 'refs/heads/other', writePack(objects.slice(0, 2))),
      // A deletion, a tag, a name git would refuse, a capability we do not speak.
      pushBody(second, zero, 'refs/heads/main', writePack([])),
      pushBody(zero, commit, 'refs/tags/v1', writePack(objects)),
      pushBody(zero, commit, 'refs/heads/a..b', writePack(objects)),
      pushBody(zero, commit, 'refs/heads/other', writePack(objects), 'report-status atomic'),
      // A pack with a delta entry (type 6) is git's to resolve.
      pushBody(zero, commit, 'refs/heads/other', deltaPack()),
    ];
    for (const body of cases) expect(await receivePackInNode(repo, reader, body)).toBeNull();
    expect({ branches: branches(), packs: packs() }).toEqual(before);
  });

  it('reads back the pack it writes, and refuses a damaged one', () => {
    const objects: PackObject[] = [
      { type: 'blob', data: Buffer.alloc(70_000, 7) },
      { type: 'blob', data: Buffer.alloc(0) },
    ];
    const pack = writePack(objects);
    expect(parsePack(pack)!.objects.map((o) => o.id)).toEqual(
      objects.map((o) => objectId(o.type, o.data)),
    );
    expect(idsInPack(scratch, pack)).toEqual(objects.map((o) => objectId(o.type, o.data)).sort());
    const damaged = Buffer.from(pack);
    damaged[20] = damaged[20]! ^ 0xff;
    expect(() => parsePack(damaged)).toThrow(/checksum/);
  });
});

function deltaPack(): Buffer {
  const body = Buffer.concat([
    Buffer.from('PACK', 'latin1'),
    Buffer.from([0, 0, 0, 2, 0, 0, 0, 1]),
    Buffer.from([0x60 | 3, 0x01]), // OFS_DELTA, size 3, offset 1
  ]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}
