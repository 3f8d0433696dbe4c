import { describe, expect, it } from '@jest/globals';
import { campaignSpecSchema, type CampaignSpecInput } from '@campaigns/campaign-spec';
import { unmatchedPatterns } from './unmatched-patterns.js';

const targets = [
  { repository: 'github.com/acme/api', branch: 'main' },
  { repository: 'github.com/acme/web', branch: 'main' },
  { repository: 'github.com/acme/web', branch: 'release' },
];

function problems(
  workspaces: CampaignSpecInput['workspaces'],
  published?: unknown,
  resolved = targets,
) {
  const spec = campaignSpecSchema.parse({
    name: 'x',
    on: [{ repositoriesMatchingQuery: 'file:README' }],
    workspaces,
    steps: [{ run: 'true', container: 'alpine:3' }],
    changesetTemplate: {
      title: 't',
      body: 'b',
      branch: 'b',
      commit: { message: 'm' },
      ...(published === undefined ? {} : { published }),
    },
  });
  return unmatchedPatterns(spec, resolved, ['github.com']);
}

describe('unmatchedPatterns', () => {
  it('reports nothing when every pattern matches a resolved repository', () => {
    expect(
      problems(
        [{ rootAtLocationOf: 'package.json', in: 'github.com/acme/web' }],
        [{ 'github.com/acme/*': true }, { 'github.com/acme/web@release': 'draft' }],
      ),
    ).toEqual([]);
  });

  it('suggests the host-qualified form of a pattern written without the host', () => {
    expect(
      problems(
        [{ rootAtLocationOf: 'package.json', in: 'acme/web' }],
        [{ 'acme/*@release': true }],
      ),
    ).toEqual([
      {
        entry: 'workspaces: rootAtLocationOf package.json in acme/web',
        message:
          '"acme/web" matches none of the 2 resolved repositories: patterns are matched against HOST/OWNER/NAME; did you mean "github.com/acme/web"?',
      },
      {
        entry: 'changesetTemplate.published: acme/*@release',
        message:
          '"acme/*@release" matches none of the 2 resolved repositories: patterns are matched against HOST/OWNER/NAME; did you mean "github.com/acme/*@release"?',
      },
    ]);
  });

  it('says a pattern has no effect when no host makes it match, including its branch', () => {
    expect(
      problems([], [{ 'github.com/other/*': true }, { 'github.com/acme/api@release': true }]),
    ).toEqual([
      {
        entry: 'changesetTemplate.published: github.com/other/*',
        message:
          '"github.com/other/*" matches none of the 2 resolved repositories (patterns are matched against HOST/OWNER/NAME); it has no effect',
      },
      {
        entry: 'changesetTemplate.published: github.com/acme/api@release',
        message: expect.stringContaining('it has no effect'),
      },
    ]);
  });

  it('stays quiet when nothing resolved, and for the single published value', () => {
    expect(problems([{ rootAtLocationOf: 'go.mod', in: 'acme/*' }], undefined, [])).toEqual([]);
    expect(problems([], true)).toEqual([]);
  });
});
