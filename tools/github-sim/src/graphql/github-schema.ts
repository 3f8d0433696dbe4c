import { schema as publishedSchema } from '@octokit/graphql-schema';
import { buildClientSchema, type GraphQLSchema, type IntrospectionQuery } from 'graphql';

let cached: GraphQLSchema | undefined;

/**
 * GitHub's full published GraphQL schema (`@octokit/graphql-schema`). Every document the sim
 * accepts is validated against it first, so a query that works here is a query GitHub accepts.
 * Built from the introspection JSON: the package's SDL repeats some fields and does not build.
 */
export function githubSchema(): GraphQLSchema {
  cached ??= buildClientSchema(publishedSchema.json as IntrospectionQuery);
  return cached;
}
