import { describe, expect, it } from '@jest/globals';
import {
  changesetId,
  importedChangesetId,
  sha256Hex,
  type ChangesetSpecData,
} from '@campaigns/events';
import { changesetsLeavingSpec, planImports, planWorkspaceChangesets } from './plan-changesets.js';
import type { ChangesetRow } from './desired-state.js';

const A = 'github.com/acme/a';
const B = 'github.com/acme/b';

const specOf = (title: string): ChangesetSpecData => ({
  baseRef: 'main',
  baseRevision: 'a'.repeat(40),
  title,
  body: '',
  commit: { message: 'm', author: { name: 'n', email: 'e' } },
  published: false,
  diff: { sha256: sha256Hex(title), size: 1 },
  files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
});

function row(repository: string, headBranch: string, o: Partial<ChangesetRow> = {}): ChangesetRow {
  return {
    changeset_id: changesetId('c', repository, headBranch),
    campaign: 'c',
    repository,
    head_branch: headBranch,
    workspace_branch: 'main',
    workspace_path: '',
    removed: false,
    spec: specOf('Hello'),
    last_event_id: '00000000-0000-4000-8000-000000000000',
    import_number: null,
    ...o,
  };
}

/** The keys of a spec as jsonb hands them back: in another order than they were written. */
function reordered(spec: ChangesetSpecData): ChangesetSpecData {
  return Object.fromEntries(Object.entries(spec).reverse()) as ChangesetSpecData;
}

describe('planWorkspaceChangesets', () => {
  it.each([
    {
      given: 'no changeset recorded yet',
      recorded: [],
      rendered: [{ headBranch: 'hello', spec: specOf('Hello') }],
      then: [['computed', 'hello']],
    },
    {
      given: 'the same spec recorded (keys in another order)',
      recorded: [row(A, 'hello', { spec: reordered(specOf('Hello')) })],
      rendered: [{ headBranch: 'hello', spec: specOf('Hello') }],
      then: [],
    },
    {
      given: 'another title recorded',
      recorded: [row(A, 'hello', { spec: specOf('Old') })],
      rendered: [{ headBranch: 'hello', spec: specOf('Hello') }],
      then: [['computed', 'hello']],
    },
    {
      given: 'the same spec recorded but removed since',
      recorded: [row(A, 'hello', { removed: true })],
      rendered: [{ headBranch: 'hello', spec: specOf('Hello') }],
      then: [['computed', 'hello']],
    },
    {
      given: 'an empty diff now',
      recorded: [row(A, 'hello'), row(A, 'gone', { removed: true })],
      rendered: [],
      then: [['removed', 'hello', 'empty-diff']],
    },
    {
      given: 'another branch now',
      recorded: [row(A, 'hello')],
      rendered: [{ headBranch: 'renamed', spec: specOf('Hello') }],
      then: [
        ['computed', 'renamed'],
        ['removed', 'hello', 'branch-no-longer-produced'],
      ],
    },
  ])('given $given', ({ recorded, rendered, then }) => {
    const changes = planWorkspaceChangesets('c', A, recorded, rendered);

    expect(
      changes.map((c) =>
        c.kind === 'computed' ? [c.kind, c.headBranch] : [c.kind, c.row.head_branch, c.reason],
      ),
    ).toEqual(then);
    for (const c of changes)
      if (c.kind === 'computed') expect(c.changesetId).toBe(changesetId('c', A, c.headBranch));
  });

  it('carrying out the plan leaves nothing to do', () => {
    const rendered = [
      { headBranch: 'hello', spec: specOf('Hello') },
      { headBranch: 'docs', spec: specOf('Docs') },
    ];
    const changes = planWorkspaceChangesets('c', A, [row(A, 'old')], rendered);
    const after = [
      ...changes.map((c) =>
        c.kind === 'computed'
          ? row(A, c.headBranch, { spec: c.spec })
          : { ...c.row, removed: true },
      ),
    ];

    expect(planWorkspaceChangesets('c', A, after, rendered)).toEqual([]);
  });
});

describe('changesetsLeavingSpec', () => {
  const at = (repository: string, branch = 'main', path = '') => ({ repository, branch, path });
  const removals = (wanted: ChangesetRow[], workspaces: ReturnType<typeof at>[]) =>
    changesetsLeavingSpec(wanted, workspaces).map((c) =>
      c.kind === 'removed' ? [c.row.repository, c.row.head_branch, c.reason] : c,
    );

  it('removes the wanted changesets of repositories no longer resolved, for that reason', () => {
    const wanted = [row(A, 'hello'), row(B, 'hello'), row(B, 'old', { removed: true })];

    expect(removals(wanted, [at(A)])).toEqual([[B, 'hello', 'repository-left-spec']]);
  });

  it('removes those of a branch or a path the repository no longer resolves to', () => {
    const wanted = [
      row(A, 'hello-main'),
      row(A, 'hello-release', { workspace_branch: 'release' }),
      row(B, 'hello-api', { workspace_path: 'api' }),
      row(B, 'hello-web', { workspace_path: 'web' }),
    ];

    expect(removals(wanted, [at(A), at(B, 'main', 'api')])).toEqual([
      [A, 'hello-release', 'workspace-left-spec'],
      [B, 'hello-web', 'workspace-left-spec'],
    ]);
  });

  it('knows the branch of a row recorded before it was kept by its base branch', () => {
    const old = row(A, 'hello', { workspace_branch: null });

    expect(removals([old], [at(A)])).toEqual([]);
    expect(removals([old], [at(A, 'release')])).toEqual([[A, 'hello', 'workspace-left-spec']]);
  });
});

describe('planImports', () => {
  const imported = (repository: string, number: number, o: Partial<ChangesetRow> = {}) =>
    row(repository, `#${number}`, {
      changeset_id: importedChangesetId('c', repository, number),
      workspace_branch: null,
      spec: null,
      import_number: number,
      ...o,
    });

  it('imports each listed pull request not tracked yet, and removes each tracked one no longer listed (import-left-spec)', () => {
    const wanted = [imported(A, 1), imported(A, 2), row(A, 'hello')];
    const plan = planImports('c', wanted, [
      { repository: A, number: 2 },
      { repository: B, number: 2 },
    ]);
    expect(plan.imported).toEqual([
      { changesetId: importedChangesetId('c', B, 2), repository: B, number: 2 },
    ]);
    expect(plan.removed.map((r) => [r.row.head_branch, r.reason])).toEqual([
      ['#1', 'import-left-spec'],
    ]);
  });

  it('imports again a pull request that was let go and is listed again', () => {
    const plan = planImports(
      'c',
      [imported(A, 1, { removed: true })],
      [{ repository: A, number: 1 }],
    );
    expect(plan.imported.map((i) => i.number)).toEqual([1]);
    expect(plan.removed).toEqual([]);
  });

  it('an imported changeset never leaves the spec with the workspaces: no workspace renders it', () => {
    expect(changesetsLeavingSpec([imported(A, 1)], [])).toEqual([]);
  });
});
