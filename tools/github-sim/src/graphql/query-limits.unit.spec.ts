import { describe, expect, it } from '@jest/globals';
import { validate } from '@octokit/graphql-schema';
import { getOperationAST, Kind, parse, type FragmentDefinitionNode } from 'graphql';
import { connectionOf } from './connections.js';
import { githubSchema } from './github-schema.js';
import { costOf, measureQuery } from './query-limits.js';

/** Measures a query against GitHub's full schema, as the docs' examples are written for it. */
function measure(query: string, variables: Record<string, unknown> = {}) {
  expect(validate(query)).toEqual([]);
  const document = parse(query);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return measureQuery(githubSchema(), getOperationAST(document)!, fragments, variables);
}

describe('node counts, with the examples of GitHub’s documentation', () => {
  it('counts 50 repositories and 50 × 10 issues as 550 nodes', () => {
    const limits = measure(`query {
      viewer { repositories(first: 50) { edges { repository: node { name
        issues(first: 10) { totalCount edges { node { title bodyHTML } } } } } } } }`);

    expect(limits.nodeCount).toBe(550);
    expect(limits.errors).toEqual([]);
  });

  it('counts the complex example as 22,060 nodes', () => {
    const limits = measure(`query {
      viewer {
        repositories(first: 50) { edges { repository: node { name
          pullRequests(first: 20) { edges { pullRequest: node { title
            comments(first: 10) { edges { comment: node { bodyHTML } } } } } }
          issues(first: 20) { totalCount edges { issue: node { title bodyHTML
            comments(first: 10) { edges { comment: node { bodyHTML } } } } } } } } }
        followers(first: 10) { edges { follower: node { login } } } } }`);

    expect(limits.nodeCount).toBe(22_060);
  });
});

describe('cost, with the example of GitHub’s documentation', () => {
  it('needs 5,101 requests for 100 repositories × 50 issues × 60 labels, and costs 51 points', () => {
    const limits = measure(`query {
      viewer { login repositories(first: 100) { edges { node { id
        issues(first: 50) { edges { node { id
          labels(first: 60) { edges { node { id name } } } } } } } } } } }`);

    expect(limits.requestCount).toBe(5101);
    expect(limits.cost).toBe(51);
  });

  it('costs at least one point, and rounds to the nearest whole number', () => {
    expect(costOf(0)).toBe(1);
    expect(costOf(149)).toBe(1);
    expect(costOf(150)).toBe(2);
    expect(costOf(300)).toBe(3);
  });

  it('counts connections inside fragments and under every alias, with page sizes from variables', () => {
    const limits = measure(
      `query($n: Int!) { a: node(id: "x") { ...pr } b: node(id: "y") { ...pr } }
       fragment pr on PullRequest { labels(first: $n) { nodes { name } } commits(last: 1) { nodes { id } } }`,
      { n: 20 },
    );

    expect(limits).toMatchObject({ requestCount: 4, nodeCount: 42, cost: 1, errors: [] });
  });
});

describe('pagination rules', () => {
  it('reports every connection without `first` or `last`, with its path', () => {
    const limits = measure(`query Sync { viewer { repositories { nodes { name } } } }`);

    expect(limits.errors).toEqual([
      expect.objectContaining({
        type: 'MISSING_PAGINATION_BOUNDARIES',
        path: ['query Sync', 'viewer', 'repositories'],
      }),
    ]);
  });

  it('refuses a negative page size', () => {
    expect(
      measure(`query { viewer { repositories(last: -1) { nodes { name } } } }`).errors,
    ).toEqual([
      expect.objectContaining({
        message: '`last` on the `repositories` connection cannot be less than zero.',
      }),
    ]);
  });
});

describe('connections', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];

  it('pages forward with first/after and backward with last/before', () => {
    const first = connectionOf(items, { first: 2 });
    const second = connectionOf(items, { first: 2, after: first.pageInfo.endCursor });
    const last = connectionOf(items, { last: 2 });
    const beforeLast = connectionOf(items, { last: 2, before: last.pageInfo.startCursor });

    expect([first.nodes, first.pageInfo.hasNextPage]).toEqual([['a', 'b'], true]);
    expect([second.nodes, second.pageInfo.hasNextPage]).toEqual([['c', 'd'], true]);
    expect([last.nodes, last.pageInfo.hasPreviousPage]).toEqual([['d', 'e'], true]);
    expect([beforeLast.nodes, beforeLast.pageInfo.hasPreviousPage]).toEqual([['b', 'c'], true]);
    expect(first.totalCount).toBe(5);
  });
});
