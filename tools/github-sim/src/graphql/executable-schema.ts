import {
  isInterfaceType,
  isObjectType,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import { mutationResolvers } from './mutations.js';
import { queryResolvers, typeOf, type Resolvers } from './resolvers.js';
import { buildSchemaSubset } from './subset-schema.js';
import { githubSchema } from './github-schema.js';
import { simSchemaSubset } from './sim-schema.js';

let cached: GraphQLSchema | undefined;

/** The sim's executable schema: GitHub's definitions of the served fields, with resolvers. */
export function executableSchema(): GraphQLSchema {
  cached ??= attachResolvers(buildSchemaSubset(githubSchema(), simSchemaSubset), {
    ...queryResolvers(),
    Mutation: mutationResolvers() as unknown as Resolvers[string],
  });
  return cached;
}

/** Attaches the resolvers to `schema` (a fresh copy of the sim's schema definition). */
function attachResolvers(schema: GraphQLSchema, all: Resolvers): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isInterfaceType(type)) type.resolveType = typeOf;
    if (!isObjectType(type)) continue;
    const fields = type.getFields();
    for (const [name, resolve] of Object.entries(all[type.name] ?? {})) {
      const field = fields[name];
      if (field === undefined)
        throw new Error(`the sim's schema has no field ${type.name}.${name}`);
      field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
    }
  }
  return schema;
}
