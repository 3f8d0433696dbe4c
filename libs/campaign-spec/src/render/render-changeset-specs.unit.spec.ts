import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseCampaignSpec } from '../parse/parse-campaign-spec.js';
import type { CampaignSpec } from '../spec/campaign-spec.schema.js';
import { lines } from '../test-support/fixtures.js';
import { ChangesetRenderError, type StepResults, type Workspace } from './changeset-spec.js';
import { publication, renderChangesetSpecs } from './render-changeset-specs.js';

function spec(text: string): CampaignSpec {
  const result = parseCampaignSpec(text);
  expect(result.errors).toEqual([]);
  return result.spec!;
}

const workspace: Workspace = {
  repository: 'github.com/acme/api',
  branch: 'main',
  baseRevision: 'c0ffee',
  path: '',
  searchResultPaths: ['README.md', 'docs/intro.md'],
};

const noFiles = { modified: [], added: [], deleted: [], renamed: [] };

const results: StepResults = {
  files: {
    modified: ['README.md', 'services/a/x.ts'],
    added: ['services/b/new.ts'],
    deleted: [],
    renamed: [],
  },
  fileDiffs: [
    { path: 'README.md', patch: 'diff --git a/README.md b/README.md\n' },
    { path: 'services/a/x.ts', patch: 'diff --git a/services/a/x.ts b/services/a/x.ts\n' },
    { path: 'services/b/new.ts', patch: 'diff --git a/services/b/new.ts b/services/b/new.ts\n' },
  ],
  outputs: { headerCount: '3', config: { owner: 'team-a' } },
  steps: [{ stepIndex: 0, skipped: false, stdout: '3\n', stderr: '', files: noFiles }],
};

const LICENSE_SPEC = lines(
  'name: license-headers',
  'description: Add SPDX headers',
  'on:',
  '  - repositoriesMatchingQuery: repo:^github\\.com/acme/',
  'steps:',
  '  - run: echo 3',
  '    container: alpine:3',
  '    outputs:',
  '      headerCount:',
  '        value: ${{ step.stdout }}',
  '      config:',
  '        value: "owner: team-a"',
  '        format: yaml',
  'changesetTemplate:',
  '  title: ${{ campaign.name }} in ${{ repository.name }}',
  '  body: |',
  '    Headers: ${{ outputs.headerCount }}, owner ${{ outputs.config.owner }}',
  '    Modified: ${{ join steps.modified_files ", " }}',
  '  branch: campaigns/${{ batch_change.name }}',
  '  commit:',
  '    message: Add headers (${{ len steps.added_files }} new)',
  '    author:',
  '      name: Campaigns Bot',
  '      email: bot+${{ replace repository.name "/" "-" }}@example.com',
  '  published:',
  '    - github.com/acme/*: draft',
  '    - github.com/acme/api: true',
);

describe('renderChangesetSpecs', () => {
  it('renders every templated field for the workspace', () => {
    const [changeset, ...others] = renderChangesetSpecs(spec(LICENSE_SPEC), workspace, results);
    expect(others).toEqual([]);
    expect(changeset).toEqual({
      repository: 'github.com/acme/api',
      baseRef: 'main',
      baseRevision: 'c0ffee',
      headRef: 'campaigns/license-headers',
      title: 'license-headers in github.com/acme/api',
      body: 'Headers: 3, owner team-a\nModified: README.md, services/a/x.ts\n',
      commit: {
        message: 'Add headers (1 new)',
        author: { name: 'Campaigns Bot', email: 'bot+github.com-acme-api@example.com' },
      },
      published: true,
      files: results.files,
      diff: results.fileDiffs!.map((d) => d.patch).join(''),
    });
  });

  it('makes one changeset per transformChanges group with changes, plus one for the rest', () => {
    const grouped = spec(
      lines(
        'name: split',
        'transformChanges:',
        '  group:',
        '    - directory: services',
        '      branch: split-services',
        '      title: Split ${{ steps.path }}',
        '    - directory: services/b',
        '      branch: split-b',
        '    - directory: docs',
        '      branch: split-docs',
        '    - directory: services',
        '      repository: github.com/acme/other',
        '      branch: split-other',
        'changesetTemplate:',
        '  title: Split',
        '  branch: split',
        '  commit:',
        '    message: Split',
        '  published:',
        '    - "*@split-b": draft',
      ),
    );
    const changesets = renderChangesetSpecs(grouped, workspace, results);
    expect(
      changesets.map((c) => ({
        headRef: c.headRef,
        title: c.title,
        group: c.group,
        files: c.files,
        published: c.published,
      })),
    ).toEqual([
      {
        headRef: 'split',
        title: 'Split',
        group: undefined,
        files: { ...noFiles, modified: ['README.md'] },
        published: false,
      },
      {
        headRef: 'split-b',
        title: 'Split',
        group: { directory: 'services/b' },
        files: { ...noFiles, added: ['services/b/new.ts'] },
        published: 'draft',
      },
      {
        headRef: 'split-services',
        title: 'Split services',
        group: { directory: 'services' },
        files: { ...noFiles, modified: ['services/a/x.ts'] },
        published: false,
      },
    ]);
    expect(changesets[1]!.diff).toBe('diff --git a/services/b/new.ts b/services/b/new.ts\n');
  });

  it('appends the campaign link to the body unless the body places it', () => {
    const base = lines(
      'name: x',
      'changesetTemplate:',
      '  title: t',
      '  branch: b',
      '  commit:',
      '    message: m',
    );
    const link = '[Campaign x](https://campaigns.example/x)';
    const appended = renderChangesetSpecs(spec(`${base}  body: Hello\n`), workspace, results, {
      campaignLink: link,
    });
    expect(appended[0]!.body).toBe(`Hello\n\n${link}`);
    const placed = renderChangesetSpecs(
      spec(`${base}  body: "${'${{ batch_change_link }}'} first"\n`),
      workspace,
      results,
      {
        campaignLink: link,
      },
    );
    expect(placed[0]!.body).toBe(`${link} first`);
  });

  it('returns no changeset when the steps changed nothing', () => {
    expect(
      renderChangesetSpecs(spec(LICENSE_SPEC), workspace, {
        ...results,
        files: noFiles,
        fileDiffs: [],
      }),
    ).toEqual([]);
  });

  it('refuses a branch template that renders to something Git refuses, naming the field', () => {
    const bad = spec(
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: t',
        '  branch: fix-${{ steps.path }}',
        '  commit:',
        '    message: m',
      ),
    );
    const render = () => renderChangesetSpecs(bad, { ...workspace, path: 'a b' }, results);
    expect(render).toThrow(ChangesetRenderError);
    expect(render).toThrow(
      'changesetTemplate.branch: rendered to "fix-a b", which is not a valid branch name: a branch name cannot contain whitespace',
    );
  });

  it('reports a template that fails at render time with the field it is in', () => {
    const missing = spec(
      lines(
        'name: x',
        'changesetTemplate:',
        '  title: ${{ outputs.nope }}',
        '  branch: b',
        '  commit:',
        '    message: m',
      ),
    );
    expect(() => renderChangesetSpecs(missing, workspace, results)).toThrow(
      /^changesetTemplate\.title: template error: .*nope/,
    );
  });

  it('names a failing group by its place in the spec, even when earlier groups are for other repositories', () => {
    const groups = spec(
      lines(
        'name: x',
        'transformChanges:',
        '  group:',
        '    - directory: services',
        '      repository: github.com/acme/other',
        '      branch: other',
        '    - directory: services',
        '      branch: g-${{ outputs.nope }}',
        'changesetTemplate:',
        '  title: t',
        '  branch: b',
        '  commit:',
        '    message: m',
      ),
    );
    expect(() => renderChangesetSpecs(groups, workspace, results)).toThrow(
      /^transformChanges\.group\[1\]\.branch: template error/,
    );
  });

  it('is deterministic: the same inputs give the same changesets, whatever the order of the diffs', () => {
    const parsed = spec(LICENSE_SPEC);
    const file = fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6}){0,2}\.ts$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(file, { maxLength: 8 }),
        fc.string({ maxLength: 20 }),
        (paths, stdout) => {
          const input: StepResults = {
            files: { ...noFiles, modified: paths },
            fileDiffs: paths.map((path) => ({ path, patch: `diff ${path}\n` })),
            outputs: { headerCount: stdout, config: { owner: 'o' } },
            steps: [],
          };
          const reversed = { ...input, fileDiffs: [...input.fileDiffs!].reverse() };
          expect(renderChangesetSpecs(parsed, workspace, reversed)).toEqual(
            renderChangesetSpecs(parsed, workspace, input),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('publication', () => {
  it.each([
    [undefined, 'github.com/a/b', 'x', false],
    [null, 'github.com/a/b', 'x', false],
    ['draft', 'github.com/a/b', 'x', 'draft'],
    [[{ 'github.com/*': true }, { 'github.com/a/*': false }], 'github.com/a/b', 'x', false],
    [[{ 'github.com/a/*': false }, { 'github.com/*': true }], 'github.com/a/b', 'x', true],
    [
      [{ '*': true }, { 'github.com/*@my-branch': 'draft' }],
      'github.com/a/b',
      'my-branch',
      'draft',
    ],
    [[{ '*': true }, { 'github.com/*@my-branch': 'draft' }], 'github.com/a/b', 'other', true],
    [[{ 'gitlab.com/*': true }], 'github.com/a/b', 'x', false],
    [[{ 'github.com/{a,c}/b': true }], 'github.com/c/b', 'x', true],
  ] as const)(
    '%j for %s@%s is %j (the last matching entry wins)',
    (published, repository, branch, expected) => {
      expect(publication(published as never, repository, branch)).toBe(expected);
    },
  );
});
