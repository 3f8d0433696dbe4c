// The GraphQL client for tests: `@octokit/graphql`, as Campaigns' GitHub adapter uses it, and a
// check that every query a test sends is valid against GitHub's published schema.
import { graphql, GraphqlResponseError } from '@octokit/graphql';
import { validate } from '@octokit/graphql-schema';
import type { GithubSim } from '../../github-sim.js';

export type GraphqlCall = <T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
) => Promise<T>;

/** Throws when GitHub's schema would refuse `query`, so no test relies on something GitHub rejects. */
export function assertValidOnGithub(query: string): void {
  const errors = validate(query);
  if (errors.length > 0) {
    throw new Error(
      `query is not valid against GitHub's schema:\n${errors.map((e) => e.message).join('\n')}\n${query}`,
    );
  }
}

/** `@octokit/graphql` against the simulator, acting with `token`. */
export function simGraphql(sim: GithubSim, token: string): GraphqlCall {
  const client = graphql.defaults({
    baseUrl: sim.apiUrl,
    headers: { authorization: `token ${token}` },
  });
  return async <T>(query: string, variables: Record<string, unknown> = {}) => {
    assertValidOnGithub(query);
    return client<T>(query, variables);
  };
}

/** What a failed call answered: its partial data and GitHub's error list. */
export interface FailedCall {
  data: unknown;
  errors: {
    type?: string;
    path?: (string | number)[];
    locations?: { line: number; column: number }[];
    message: string;
  }[];
}

/** The answer of a call that is expected to fail with GraphQL errors. */
export async function graphqlErrors(call: Promise<unknown>): Promise<FailedCall> {
  try {
    await call;
  } catch (error) {
    if (error instanceof GraphqlResponseError)
      return { data: error.data as unknown, errors: error.errors ?? [] };
    throw error;
  }
  throw new Error('expected the GraphQL call to fail');
}

/** POSTs a query without a client, for what clients hide (status codes, headers, 401s). */
export async function rawGraphql(
  sim: GithubSim,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(sim.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}
