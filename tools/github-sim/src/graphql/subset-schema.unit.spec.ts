import { describe, expect, it } from '@jest/globals';
import { isInterfaceType, isObjectType, type GraphQLEnumType, type GraphQLSchema } from 'graphql';
import { executableSchema } from './executable-schema.js';
import { githubSchema } from './github-schema.js';
import { simSchemaSubset } from './sim-schema.js';
import { buildSchemaSubset } from './subset-schema.js';

describe('the sim’s schema', () => {
  it('is a subset of GitHub’s: every field it serves has GitHub’s type and arguments', () => {
    const github = githubSchema();
    const sim = executableSchema();
    const mismatches: string[] = [];
    for (const type of Object.values(sim.getTypeMap())) {
      if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type))) continue;
      const theirs = github.getType(type.name);
      if (!(isObjectType(theirs) || isInterfaceType(theirs))) {
        mismatches.push(`${type.name} is not an object or interface on GitHub`);
        continue;
      }
      for (const field of Object.values(type.getFields())) {
        const their = theirs.getFields()[field.name];
        const signature = (f: typeof field) =>
          `${f.args.map((a) => `${a.name}: ${String(a.type)}`).join(', ')} -> ${String(f.type)}`;
        if (their === undefined) mismatches.push(`${type.name}.${field.name} is not on GitHub`);
        else if (signature(field) !== signature(their))
          mismatches.push(`${type.name}.${field.name}: ${signature(field)} vs ${signature(their)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('keeps enums whole, as GitHub defines them', () => {
    for (const name of [
      'PullRequestState',
      'MergeableState',
      'MergeStateStatus',
      'StatusState',
      'PullRequestReviewDecision',
      'RepositoryOrderField',
      'OrderDirection',
      'RepositoryPrivacy',
      'RepositoryVisibility',
      'RepositoryAffiliation',
    ]) {
      const values = (schema: GraphQLSchema) =>
        (schema.getType(name) as GraphQLEnumType).getValues().map((v) => v.name);
      expect(values(executableSchema())).toEqual(values(githubSchema()));
    }
  });

  it('names the type and field when the subset lists one GitHub does not have', () => {
    expect(() =>
      buildSchemaSubset(githubSchema(), { ...simSchemaSubset, PullRequest: ['id', 'colour'] }),
    ).toThrow("GitHub's PullRequest has no field colour");
  });

  it('says which type to list when a kept field returns a type the subset leaves out', () => {
    expect(() => buildSchemaSubset(githubSchema(), { Query: ['viewer'] })).toThrow(
      'a kept field returns User: list it and the fields to keep',
    );
  });
});
