import { describe, expect, it } from '@jest/globals';
import {
  ChangesetRenderError,
  parseCampaignSpec,
  type CampaignSpec,
  type StepResults,
} from '@campaigns/campaign-spec';
import { sha256Hex, type EventData, type PatchComputed } from '@campaigns/events';
import { testWorkspace } from '../test-support/fixed-resolver.js';
import { DEFAULT_COMMIT_AUTHOR, renderPatch, RenderFailure } from './render-patch.js';

const REPO = 'github.com/acme/a';

function spec(extra = ''): CampaignSpec {
  const parsed = parseCampaignSpec(
    `name: hello
steps:
  - run: echo
    container: alpine:3
${extra}changesetTemplate:
  title: Hello \${{ repository.name }}
  branch: hello
  commit:
    message: Say hello
`,
    'hello.campaign.yaml',
  );
  if (!parsed.spec) throw new Error(JSON.stringify(parsed.errors));
  return parsed.spec;
}

const fileDiff = (path: string) => ({
  path,
  patch: `diff --git a/${path} b/${path}\n--- a/${path}\n+++ b/${path}\n@@ -1 +1,2 @@\n x\n+Hello\n`,
});

/** A workspace's patch changing `paths`, and its step results blob. */
function patchOf(paths: string[], o: { fileDiffs?: boolean } = {}) {
  const diffs = paths.map(fileDiff);
  const whole = diffs.map((d) => d.patch).join('');
  const files = { modified: paths, added: [], deleted: [], renamed: [] };
  const results: StepResults = {
    files,
    ...(o.fileDiffs === false ? {} : { fileDiffs: diffs }),
    outputs: {},
    steps: [],
  };
  const resultsBlob = Buffer.from(JSON.stringify(results));
  const tree = { sha: 'c'.repeat(40), objects: { sha256: sha256Hex('pack'), size: 4 } };
  const patch: EventData<typeof PatchComputed> = {
    executionId: 'e'.repeat(32),
    campaign: 'hello',
    applyId: '6f1b2a9e-3c1d-4e5f-8a7b-1234567890ab',
    workspace: testWorkspace(REPO),
    empty: false,
    diff: { sha256: sha256Hex(whole), size: Buffer.byteLength(whole) },
    results: { sha256: sha256Hex(resultsBlob), size: resultsBlob.length },
    files,
    steps: [],
    cached: false,
    tree,
  };
  return { patch, resultsBlob, tree, diffs };
}

describe('renderPatch', () => {
  it('a changeset carrying the whole diff reuses the patch diff blob and carries its tree', () => {
    const { patch, resultsBlob, tree } = patchOf(['README.md', 'docs/a.md']);

    const { changesets, newBlobs } = renderPatch(spec(), patch, resultsBlob);

    expect(newBlobs).toEqual([]);
    expect(changesets).toEqual([
      {
        headBranch: 'hello',
        spec: {
          baseRef: 'main',
          baseRevision: 'a'.repeat(40),
          title: `Hello ${REPO}`,
          body: '',
          commit: { message: 'Say hello', author: DEFAULT_COMMIT_AUTHOR },
          published: false,
          diff: patch.diff,
          files: { modified: ['README.md', 'docs/a.md'], added: [], deleted: [], renamed: [] },
          tree,
        },
      },
    ]);
  });

  it('carries x-campaigns.autoMerge into every changeset of the spec, and leaves it out without it', () => {
    const { patch, resultsBlob } = patchOf(['README.md']);
    const parsed = (extension: string) =>
      parseCampaignSpec(
        `name: hello\nchangesetTemplate:\n  title: t\n  branch: hello\n  published: true\n  commit:\n    message: m\n${extension}`,
        'hello.campaign.yaml',
      ).spec!;
    const merged = parsed('x-campaigns:\n  autoMerge:\n    method: rebase\n');

    expect(renderPatch(merged, patch, resultsBlob).changesets[0]!.spec.autoMerge).toEqual({
      method: 'rebase',
    });
    expect(renderPatch(parsed(''), patch, resultsBlob).changesets[0]!.spec).not.toHaveProperty(
      'autoMerge',
    );
    const native = parsed('x-campaigns:\n  autoMerge:\n    method: merge\n    native: true\n');
    expect(renderPatch(native, patch, resultsBlob).changesets[0]!.spec.autoMerge).toEqual({
      method: 'merge',
      native: true,
    });
  });

  it('carries changesetTemplate.fork when the template says, and leaves it out otherwise (the code host decides)', () => {
    const { patch, resultsBlob } = patchOf(['README.md']);
    const forked = (fork: string) =>
      parseCampaignSpec(
        `name: hello\nchangesetTemplate:\n  title: t\n  branch: hello\n  fork: ${fork}\n  commit:\n    message: m\n`,
        'hello.campaign.yaml',
      ).spec!;

    expect(renderPatch(forked('true'), patch, resultsBlob).changesets[0]!.spec.fork).toBe(true);
    expect(renderPatch(forked('false'), patch, resultsBlob).changesets[0]!.spec.fork).toBe(false);
    expect('fork' in renderPatch(spec(), patch, resultsBlob).changesets[0]!.spec).toBe(false);
  });

  it('without per-file diffs, a single changeset is the whole diff and carries the tree', () => {
    const { patch, resultsBlob, tree } = patchOf(['README.md'], { fileDiffs: false });

    const [only] = renderPatch(spec(), patch, resultsBlob).changesets;

    expect(only!.spec.diff).toEqual(patch.diff);
    expect(only!.spec.tree).toEqual(tree);
  });

  it('changesets split by transformChanges get their part of the diff as a new blob, and no tree', () => {
    const { patch, resultsBlob, diffs } = patchOf(['README.md', 'docs/a.md']);
    const split = spec(
      'transformChanges:\n  group:\n    - directory: docs\n      branch: hello-docs\n',
    );

    const { changesets, newBlobs } = renderPatch(split, patch, resultsBlob);

    expect(changesets.map((c) => [c.headBranch, c.spec.files.modified])).toEqual([
      ['hello', ['README.md']],
      ['hello-docs', ['docs/a.md']],
    ]);
    expect(newBlobs).toEqual([diffs[0]!.patch, diffs[1]!.patch]);
    for (const [i, c] of changesets.entries()) {
      expect(c.spec.diff).toEqual({
        sha256: sha256Hex(diffs[i]!.patch),
        size: Buffer.byteLength(diffs[i]!.patch),
      });
      expect(c.spec).not.toHaveProperty('tree');
    }
  });

  it('a patch without a tree (an older event) renders without one', () => {
    const { patch, resultsBlob } = patchOf(['README.md']);
    delete patch.tree;

    const [only] = renderPatch(spec(), patch, resultsBlob).changesets;

    expect(only!.spec).not.toHaveProperty('tree');
  });

  it('fails to render, with a reason, when the results are missing or unusable', () => {
    const { patch, resultsBlob } = patchOf(['README.md', 'docs/a.md'], { fileDiffs: false });
    const split = spec(
      'transformChanges:\n  group:\n    - directory: docs\n      branch: hello-docs\n',
    );

    expect(() => renderPatch(spec(), patch, undefined)).toThrow(
      new RenderFailure(`the step results blob ${patch.results.sha256} is missing`),
    );
    expect(() => renderPatch(spec(), patch, Buffer.from('{'))).toThrow(
      /^the step results are not JSON/,
    );
    expect(() => renderPatch(split, patch, resultsBlob)).toThrow(
      /carry no per-file diffs to split the changes by transformChanges/,
    );
    const badBranch = parseCampaignSpec(
      'name: x\nchangesetTemplate:\n  title: t\n  branch: "${{ outputs.nope }}"\n  commit:\n    message: m\n',
      'x.yaml',
    ).spec!;
    expect(() => renderPatch(badBranch, patch, resultsBlob)).toThrow(ChangesetRenderError);
  });
});
