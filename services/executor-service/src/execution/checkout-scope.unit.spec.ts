import { describe, expect, it } from '@jest/globals';
import { parseCampaignSpec } from '@campaigns/campaign-spec';
import type { WorkspaceData } from '@campaigns/events';
import { checkoutScope } from './checkout-scope.js';

function spec(workspaces: string) {
  const parsed = parseCampaignSpec(
    `name: scoped
on:
  - repository: github.com/acme/mono
${workspaces}steps:
  - run: ls
    container: alpine:3
changesetTemplate:
  title: t
  body: b
  branch: b-\${{ replace steps.path "/" "-" }}
  commit:
    message: m
`,
    'scoped.yaml',
  );
  expect(parsed.errors).toEqual([]);
  return parsed.spec!;
}

function workspace(repository: string, path: string): WorkspaceData {
  return {
    repository,
    branch: 'main',
    baseRevision: 'a'.repeat(40),
    path,
    searchResultPaths: [],
  };
}

describe('checkoutScope', () => {
  const only = spec(`workspaces:
  - rootAtLocationOf: go.mod
    in: github.com/acme/go-*
  - rootAtLocationOf: package.json
    in: github.com/acme/*
    onlyFetchWorkspace: true
`);

  it('limits the checkout to the workspace when the first entry whose in matches the repository says onlyFetchWorkspace', () => {
    expect(checkoutScope(only, workspace('github.com/acme/mono', 'packages/app'))).toEqual({
      directory: 'packages/app',
    });
  });

  it('checks out the whole repository for a workspace at its root, when the entry that applies does not say so, and without workspaces', () => {
    expect(checkoutScope(only, workspace('github.com/acme/mono', ''))).toBeNull();
    // go-api is matched by the first entry (no onlyFetchWorkspace) before the second.
    expect(checkoutScope(only, workspace('github.com/acme/go-api', 'cmd'))).toBeNull();
    expect(checkoutScope(only, workspace('github.com/other/mono', 'packages/app'))).toBeNull();
    expect(checkoutScope(spec(''), workspace('github.com/acme/mono', 'packages/app'))).toBeNull();
  });
});
