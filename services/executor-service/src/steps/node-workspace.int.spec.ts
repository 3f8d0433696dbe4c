import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from '../test-support/git-fixtures.js';
import { checkoutWorkspace, ensureCommit, type StoredCommit } from './fetch-repository.js';
import { DamagedPackError, packIndex, readPack } from './git-objects.js';

/** Runs git with `input` on stdin; its stdout. */
function gitWithInput(cwd: string, args: string[], input: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`git ${args.join(' ')}: ${Buffer.concat(err).toString()}`)),
    );
    child.stdin.end(input);
  });
}

/** What a directory holds, recursively, `.git` aside: path → kind, mode bits and content. */
async function snapshot(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (path === '.git') continue;
    const full = join(dir, path);
    if (entry.isSymbolicLink()) out[path] = `link ${await readlink(full)}`;
    else if (entry.isDirectory()) Object.assign(out, await snapshot(dir, path), { [path]: 'dir' });
    else
      out[path] =
        `file ${((await lstat(full)).mode & 0o111) !== 0 ? 'x' : '-'} ${(await readFile(full)).toString('base64')}`;
  }
  return out;
}

describe('a workspace checked out and staged in Node, against git doing the same', () => {
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'campaigns-node-workspace-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A repository whose head has `build`'s files; the store, a git and a Node checkout of it. */
  async function twins(build: (work: string) => Promise<void>) {
    const name = `repo-${++n}`;
    const work = join(dir, name);
    await git(dir, 'init', '--quiet', '--initial-branch=main', work);
    await build(work);
    await git(work, 'add', '-A');
    await git(work, 'commit', '--quiet', '-m', 'base');
    const head = (await git(work, 'rev-parse', 'HEAD')).trim();
    const stored = await ensureCommit({
      url: work,
      repository: `example.com/acme/${name}`,
      revision: head,
      cacheDir: join(dir, 'cache'),
    });
    // The pack a code host would send: git's own, with deltas.
    const pack = await gitWithInput(
      work,
      ['pack-objects', '--revs', '--stdout', '-q'],
      `${head}\n`,
    );
    const read = readPack(pack, { maxInflatedBytes: 1 << 30 })!;
    const withObjects: StoredCommit = { ...stored, objects: read.objects };
    const viaGit = join(dir, `${name}-git`);
    const viaNode = join(dir, `${name}-node`);
    expect(await checkoutWorkspace(stored, viaGit)).toBeNull();
    const stage = await checkoutWorkspace(withObjects, viaNode);
    return { head, stored, pack, read, viaGit, viaNode, stage };
  }

  /** `git add -A` + `git write-tree` in the git twin. */
  async function gitTree(workspace: string): Promise<string> {
    await git(workspace, 'add', '-A');
    return (await git(workspace, 'write-tree')).trim();
  }

  async function looseObjects(workspace: string): Promise<number> {
    const objects = join(workspace, '.git', 'objects');
    let count = 0;
    for (const d of await readdir(objects)) {
      if (/^[0-9a-f]{2}$/.test(d)) count += (await readdir(join(objects, d))).length;
    }
    return count;
  }

  it('reads a pack with deltas to the same objects, and indexes it byte for byte as git does', async () => {
    const { read, pack } = await twins(async (work) => {
      // Similar large files make git write deltas.
      const text = Array.from({ length: 400 }, (_, i) => `line ${i} of a long file\n`).join('');
      await writeFile(join(work, 'a.txt'), text);
      await writeFile(join(work, 'b.txt'), `${text}one more\n`);
      await writeFile(join(work, 'c.txt'), text.replace('line 7 ', 'LINE 7 '));
    });
    const idxDir = await mkdtemp(join(dir, 'idx-'));
    await writeFile(join(idxDir, 'p.pack'), pack);
    await git(idxDir, 'index-pack', 'p.pack');
    const listing = await git(idxDir, 'verify-pack', '-v', 'p.idx');
    // The pack really has deltas (a base id in the listing's last column).
    expect(listing).toMatch(/ [0-9a-f]{40}\n/);
    expect(packIndex(read.entries, read.checksum)).toEqual(await readFile(join(idxDir, 'p.idx')));
    // Every object git lists, with its type, and no other.
    const listed = new Map(
      [...listing.matchAll(/^([0-9a-f]{40}) (\w+) /gm)].map((m) => [m[1]!, m[2]!] as const),
    );
    expect(new Map([...read.objects].map(([id, o]) => [id, o.type]))).toEqual(listed);
  });

  it('refuses a damaged pack: a flipped byte, a cut end', async () => {
    const { pack } = await twins(async (work) => writeFile(join(work, 'a.txt'), 'a\n'));
    const flipped = Buffer.from(pack);
    flipped[20] = flipped[20]! ^ 0xff;
    expect(() => readPack(flipped, { maxInflatedBytes: 1 << 20 })).toThrow(DamagedPackError);
    expect(() =>
      readPack(pack.subarray(0, pack.length - 5), { maxInflatedBytes: 1 << 20 }),
    ).toThrow(DamagedPackError);
    // Too large once inflated: not read here (git indexes it).
    expect(readPack(pack, { maxInflatedBytes: 1 })).toBeNull();
  });

  it('writes the same files, modes and links as git read-tree, and an index git finds clean', async () => {
    const { viaGit, viaNode, stage } = await twins(async (work) => {
      await mkdir(join(work, 'deep/er/still'), { recursive: true });
      await writeFile(join(work, 'README.md'), '# hi\n');
      await writeFile(join(work, 'deep/er/still/x.sh'), '#!/bin/sh\necho x\n');
      await chmod(join(work, 'deep/er/still/x.sh'), 0o755);
      await writeFile(join(work, 'bin.dat'), Buffer.from([0, 1, 2, 255]));
      await writeFile(join(work, 'ünïcode name.txt'), 'u\n');
      await symlink('deep/er', join(work, 'link'));
    });
    expect(stage).not.toBeNull();
    expect(await snapshot(viaNode)).toEqual(await snapshot(viaGit));
    expect(await git(viaNode, 'status', '--porcelain')).toBe('');
    expect(await git(viaNode, 'diff-files', '--name-only')).toBe('');
  });

  it('stages what git add -A stages: edits, a same-size edit at once, modes, links, deletions, new dirs', async () => {
    const { head, viaGit, viaNode, stage } = await twins(async (work) => {
      await mkdir(join(work, 'src/lib'), { recursive: true });
      await writeFile(join(work, 'README.md'), '# hi\n');
      await writeFile(join(work, 'same.txt'), 'aaaa\n');
      await writeFile(join(work, 'src/lib/a.ts'), 'export const a = 1;\n');
      await writeFile(join(work, 'src/lib/b.ts'), 'export const b = 2;\n');
      await writeFile(join(work, 'becomes-dir'), 'file\n');
      await writeFile(join(work, 'run.sh'), 'echo\n');
      await symlink('README.md', join(work, 'link'));
    });
    // Unchanged: the base itself, nothing written.
    expect(await stage!.stage()).toBe(head);
    expect(await looseObjects(viaNode)).toBe(0);

    for (const ws of [viaGit, viaNode]) {
      // Same size, right after the checkout: only the content tells.
      await writeFile(join(ws, 'same.txt'), 'bbbb\n');
      await writeFile(join(ws, 'README.md'), '# hi\nHello\n');
      await unlink(join(ws, 'src/lib/b.ts'));
      await chmod(join(ws, 'run.sh'), 0o755);
      await unlink(join(ws, 'link'));
      await symlink('src', join(ws, 'link'));
      await unlink(join(ws, 'becomes-dir'));
      await mkdir(join(ws, 'becomes-dir/inner'), { recursive: true });
      await writeFile(join(ws, 'becomes-dir/inner/f.txt'), 'f\n');
      await mkdir(join(ws, 'empty/dirs'), { recursive: true });
      await mkdir(join(ws, 'new/nested'), { recursive: true });
      await writeFile(join(ws, 'new/nested/n.txt'), 'n\n');
    }
    const expected = await gitTree(viaGit);
    expect(await stage!.stage()).toBe(expected);
    // The tree and its new objects are readable by git from the workspace (loose) and the store.
    expect(await git(viaNode, 'ls-tree', '-r', expected)).toBe(
      await git(viaGit, 'ls-tree', '-r', expected),
    );

    // A second step: staged again from where the first left off.
    for (const ws of [viaGit, viaNode]) {
      await writeFile(join(ws, 'src/lib/a.ts'), 'export const a = 3;\n');
      await rm(join(ws, 'new'), { recursive: true });
    }
    expect(await stage!.stage()).toBe(await gitTree(viaGit));
  });

  it('hands over to git where Node cannot stage as git does, and git goes on from what was staged', async () => {
    const cases: {
      name: string;
      build: (w: string) => Promise<void>;
      step: (w: string) => Promise<void>;
    }[] = [
      {
        name: 'a new file in a repository with a .gitignore',
        build: async (w) => {
          await writeFile(join(w, '.gitignore'), '*.log\n');
          await writeFile(join(w, 'a.txt'), 'a\n');
        },
        step: async (w) => {
          await writeFile(join(w, 'a.txt'), 'a2\n');
          await writeFile(join(w, 'debug.log'), 'ignored\n');
          await writeFile(join(w, 'kept.txt'), 'kept\n');
        },
      },
      {
        name: 'a new .gitattributes',
        build: async (w) => writeFile(join(w, 'a.txt'), 'a\n'),
        step: async (w) => {
          await writeFile(join(w, '.gitattributes'), '*.txt text\n');
          await writeFile(join(w, 'a.txt'), 'a\r\nb\r\n');
        },
      },
      {
        name: 'a nested repository',
        build: async (w) => writeFile(join(w, 'a.txt'), 'a\n'),
        step: async (w) => {
          await git(w, 'init', '--quiet', 'inner');
          await writeFile(join(w, 'a.txt'), 'changed\n');
        },
      },
    ];
    for (const c of cases) {
      const { viaGit, viaNode, stage } = await twins(c.build);
      await c.step(viaGit);
      await c.step(viaNode);
      expect([c.name, await stage!.stage()]).toEqual([c.name, null]);
      // What runSteps does next: git's staging, from the index the hand-over wrote.
      expect([c.name, await gitTree(viaNode).catch((e: Error) => e.message)]).toEqual([
        c.name,
        await gitTree(viaGit).catch((e: Error) => e.message),
      ]);
    }
  });

  it('leaves to git a tree with a submodule or a .gitattributes, writing nothing', async () => {
    const withAttributes = await twins(async (w) => {
      await writeFile(join(w, '.gitattributes'), '* text=auto\n');
      await writeFile(join(w, 'a.txt'), 'a\n');
    });
    // checkoutWorkspace fell back to read-tree: a checkout like git's, no stage.
    expect(withAttributes.stage).toBeNull();
    expect(await snapshot(withAttributes.viaNode)).toEqual(await snapshot(withAttributes.viaGit));

    const withSubmodule = await twins(async (w) => {
      await writeFile(join(w, 'a.txt'), 'a\n');
      // A nested repository with a commit: `git add -A` records it as a gitlink.
      const inner = join(w, 'vendor/lib');
      await mkdir(inner, { recursive: true });
      await git(inner, 'init', '--quiet');
      await writeFile(join(inner, 'x'), 'x\n');
      await git(inner, 'add', 'x');
      await git(inner, 'commit', '--quiet', '-m', 'inner');
    });
    expect(await git(withSubmodule.viaGit, 'ls-files', '-s', 'vendor/lib')).toMatch(/^160000 /);
    expect(withSubmodule.stage).toBeNull();
    expect(await snapshot(withSubmodule.viaNode)).toEqual(await snapshot(withSubmodule.viaGit));
  });
});
