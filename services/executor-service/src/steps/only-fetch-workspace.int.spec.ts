import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Step } from '@campaigns/campaign-spec';
import { ensureTestImage, TEST_IMAGE } from '../test-support/test-image.js';
import { createScratch, type Scratch } from '../test-support/workspace.js';
import { git } from '../test-support/git-fixtures.js';
import { runSteps, workspaceScope, type RunStepsResult, type StepsSucceeded } from './index.js';

const docker = new Docker();
const label = `campaigns.test=only-fetch-workspace-${process.pid}`;
const [labelKey, labelValue] = label.split('=') as [string, string];

function step(run: string): Step {
  return { run, container: TEST_IMAGE } as Step;
}

function succeeded(result: RunStepsResult): StepsSucceeded {
  expect(result.ok ? undefined : result.failure).toBeUndefined();
  return result as StepsSucceeded;
}

/** Lists every file the step can see under /work (but .git) into seen.txt, as paths from the root. */
const LIST_SEEN =
  'find /work -path /work/.git -prune -o -type f -print | sed "s|^/work/||" | sort > /tmp/seen && mv /tmp/seen seen.txt';

const WORKSPACE = 'packages/app';

// A monorepo whose workspace packages/app is beside another one, under a directory with files of
// its own; the .gitignore files say node_modules is not to be committed.
const MONOREPO: Record<string, string> = {
  '.gitignore': 'node_modules/\n',
  'README.md': '# monorepo\n',
  'tools/build.sh': 'echo build\n',
  'packages/.gitignore': '*.log\n',
  'packages/README.md': 'the packages\n',
  'packages/other/package.json': '{"name":"other"}\n',
  'packages/other/index.js': 'other\n',
  'packages/app/package.json': '{"name":"app"}\n',
  'packages/app/src/index.js': 'app\n',
};

// Each test runs on a workspace checked out by git (a commit the store had: git's sparse
// checkout) and on one checked out in Node (a commit just fetched in one request).
describe.each(['git', 'node'] as const)('onlyFetchWorkspace, %s checkout', (mode) => {
  let scratch: Scratch;
  beforeAll(async () => {
    await ensureTestImage();
    scratch = await createScratch(mode);
  });
  afterAll(async () => {
    await scratch.remove();
  });

  async function run(files: Record<string, string>, steps: Step[], only: boolean) {
    const { workspaceDir, baseRevision, stage } = await scratch.checkout(
      files,
      only ? workspaceScope(WORKSPACE) : null,
    );
    const result = succeeded(
      await runSteps({
        workspaceDir,
        baseRevision,
        stage,
        path: WORKSPACE,
        steps,
        docker,
        labels: { [labelKey]: labelValue },
      }),
    );
    const seen = (await readFile(join(workspaceDir, WORKSPACE, 'seen.txt'), 'utf8'))
      .split('\n')
      .filter(Boolean);
    const treeFiles = result.tree
      ? (await git(workspaceDir, 'ls-tree', '-r', '--name-only', result.tree.sha))
          .split('\n')
          .filter(Boolean)
      : [];
    return { result, seen, treeFiles };
  }

  it('a step sees only its workspace and the .gitignore files above it; the diff is from the root and deletes nothing it did not see', async () => {
    // The .gitattributes above the workspace is kept too; a Node checkout leaves a tree with one to git.
    const files =
      mode === 'git' ? { ...MONOREPO, 'packages/.gitattributes': '*.bin binary\n' } : MONOREPO;
    const { result, seen, treeFiles } = await run(
      files,
      [
        // The root's .gitignore keeps what the step installs out of the diff, as in a full checkout.
        step(`${LIST_SEEN} && mkdir -p node_modules && echo dep > node_modules/dep.js`),
        step('echo changed >> src/index.js'),
      ],
      true,
    );

    expect(seen).toEqual([
      '.gitignore',
      ...(mode === 'git' ? ['packages/.gitattributes'] : []),
      'packages/.gitignore',
      'packages/app/package.json',
      'packages/app/src/index.js',
    ]);
    expect(result.files).toEqual({
      modified: ['packages/app/src/index.js'],
      added: ['packages/app/seen.txt'],
      deleted: [],
      renamed: [],
    });
    expect(result.diff.toString()).toContain(
      'diff --git a/packages/app/src/index.js b/packages/app/src/index.js',
    );
    // The tree pushed for the changeset still has every file the checkout left out.
    expect(treeFiles).toEqual([...Object.keys(files), 'packages/app/seen.txt'].sort());
  });

  it('leaves a checkout git finds clean, with the files it left out skip-worktree', async () => {
    const { workspaceDir } = await scratch.checkout(MONOREPO, workspaceScope(WORKSPACE));

    expect(await git(workspaceDir, 'status', '--porcelain')).toBe('');
    const tagged = (await git(workspaceDir, 'ls-files', '-t')).split('\n').filter(Boolean);
    expect(tagged.filter((line) => line.startsWith('S ')).map((line) => line.slice(2))).toEqual([
      'README.md',
      'packages/README.md',
      'packages/other/index.js',
      'packages/other/package.json',
      'tools/build.sh',
    ]);
  });

  it('without it, the step sees the whole repository', async () => {
    const { seen } = await run(MONOREPO, [step(LIST_SEEN)], false);

    expect(seen).toEqual(Object.keys(MONOREPO).sort());
  });

  it('a file a step writes where the checkout left nothing is staged as written, and the files it did not write stay as they were', async () => {
    // No .gitignore: a Node checkout stages these steps in Node without handing over to git.
    const files = Object.fromEntries(
      Object.entries(MONOREPO).filter(([path]) => !path.endsWith('.gitignore')),
    );
    const { result, seen, treeFiles } = await run(
      files,
      [
        step(
          `${LIST_SEEN} && echo new > ../../README.md && mkdir -p ../other && echo x > ../other/new.txt`,
        ),
        step('echo changed >> src/index.js'),
      ],
      true,
    );

    expect(seen).toEqual(['packages/app/package.json', 'packages/app/src/index.js']);
    expect(result.files).toEqual({
      modified: ['README.md', 'packages/app/src/index.js'],
      added: ['packages/app/seen.txt', 'packages/other/new.txt'],
      deleted: [],
      renamed: [],
    });
    expect(result.diff.toString()).toContain('-# monorepo\n+new\n');
    expect(treeFiles).toEqual(
      [...Object.keys(files), 'packages/app/seen.txt', 'packages/other/new.txt'].sort(),
    );
  });
});
