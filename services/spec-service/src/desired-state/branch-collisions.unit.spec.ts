import { describe, expect, it } from '@jest/globals';
import { parseCampaignSpec } from '@campaigns/campaign-spec';
import { testWorkspace } from '../test-support/fixed-resolver.js';
import { staticBranchCollision } from './branch-collisions.js';

function spec(branch: string, extra = ''): Parameters<typeof staticBranchCollision>[0] {
  const text = `name: mono
on:
  - repositoriesMatchingQuery: file:package.json
workspaces:
  - rootAtLocationOf: package.json
steps:
  - run: echo hi > HI.md
    container: alpine:3
${extra}changesetTemplate:
  title: Hi
  body: Hi
  branch: ${branch}
  commit:
    message: Hi
`;
  const parsed = parseCampaignSpec(text, 'mono.campaign.yaml');
  if (!parsed.spec) throw new Error(JSON.stringify(parsed.errors));
  return parsed.spec;
}

const MONO = 'github.com/acme/mono';
const workspaces = [
  testWorkspace('github.com/acme/app'),
  testWorkspace(MONO, ''),
  testWorkspace(MONO, 'packages/cli'),
  testWorkspace(MONO, 'packages/web'),
];

describe('staticBranchCollision', () => {
  it('refuses a static branch for a repository with several workspaces, naming them', () => {
    expect(staticBranchCollision(spec('static'), workspaces)).toBe(
      `multiple changeset specs would have the same branch "static": changesetTemplate.branch is the same for every workspace of a repository, and these have several: ${MONO} ((root), packages/cli, packages/web). Include \${{ steps.path }} in changesetTemplate.branch (e.g. \${{ replace steps.path "/" "-" }}) to give each workspace its own; nothing was run`,
    );
  });

  it('names five repositories and counts the rest', () => {
    const many = Array.from({ length: 7 }, (_, i) => `github.com/acme/m${i}`).flatMap((r) => [
      testWorkspace(r, 'a'),
      testWorkspace(r, 'b'),
    ]);
    const message = staticBranchCollision(spec('static'), many)!;
    expect(message).toContain('github.com/acme/m4 (a, b) and 2 more repositories.');
    expect(message).not.toContain('m5');
  });

  it.each([
    ['a templated branch', spec('hi-${{ replace steps.path "/" "-" }}'), workspaces],
    ['one workspace per repository', spec('static'), workspaces.slice(0, 2)],
    [
      'several branches of one repository at its root (validate refuses those)',
      spec('static'),
      [testWorkspace(MONO), { ...testWorkspace(MONO), branch: 'release' }],
    ],
    [
      'transformChanges (each group has its branch; checked once rendered)',
      spec(
        'static',
        'transformChanges:\n  group:\n    - directory: packages\n      branch: hi-packages\n',
      ),
      workspaces,
    ],
  ])('lets %s through', (_why, s, w) => {
    expect(staticBranchCollision(s, w)).toBeNull();
  });
});
