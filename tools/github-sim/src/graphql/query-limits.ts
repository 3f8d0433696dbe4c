// GitHub's resource limits for GraphQL calls ("Rate limits and query limits for the GraphQL API"):
// every connection needs `first` or `last` within 1..100, a call may request at most 500,000
// nodes, and its cost is the number of requests needed to fill its connections, divided by 100
// and rounded to the nearest whole number, at least 1. Computed statically, before execution.
import {
  getLocation,
  getNamedType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  valueFromAST,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { GithubGraphqlError } from './errors.js';

export const MAX_NODES = 500_000;
export const MAX_PAGE_SIZE = 100;
export const MAX_NODE_IDS = 100;

export interface QueryLimits {
  /** The most nodes the call can return (GitHub's node limit counts these). */
  nodeCount: number;
  /** Requests needed to fill every connection, assuming each returns `first`/`last` items. */
  requestCount: number;
  /** Rate limit points the call costs. */
  cost: number;
  /** Pagination and node limit violations, in GitHub's error shape; the call must not run. */
  errors: GithubGraphqlError[];
}

/** Cost from request count: divided by 100, rounded to the nearest whole number, at least 1. */
export function costOf(requestCount: number): number {
  return Math.max(1, Math.round(requestCount / 100));
}

/**
 * Measures one operation of a document that is valid against `schema`. Variables must already
 * be coerced (values for every variable the operation declares, defaults applied).
 */
export function measureQuery(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Readonly<Record<string, unknown>>,
): QueryLimits {
  const errors: GithubGraphqlError[] = [];
  let nodeCount = 0;
  let requestCount = 0;
  const root =
    operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  const rootPath = operation.name
    ? `${operation.operation} ${operation.name.value}`
    : operation.operation;

  const walk = (
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType,
    multiplier: number,
    path: string[],
    seen: ReadonlySet<string>,
  ): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parent;
        if (type) walk(selection.selectionSet, type, multiplier, path, seen);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (fragment && type && !seen.has(name)) {
          walk(fragment.selectionSet, type, multiplier, path, new Set([...seen, name]));
        }
        continue;
      }
      const field = fieldOf(parent, selection);
      if (field === undefined || selection.selectionSet === undefined) continue;
      const fieldPath = [...path, selection.alias?.value ?? selection.name.value];
      const type = getNamedType(field.type);
      const args = argumentValues(field, selection, variables);
      if (isConnection(field)) {
        const size = pageSize(selection, args, fieldPath, errors);
        requestCount += multiplier;
        nodeCount += multiplier * size;
        walk(selection.selectionSet, type, multiplier * size, fieldPath, seen);
      } else if (isListField(field) && Array.isArray(args.ids)) {
        const count = args.ids.length;
        if (count > MAX_NODE_IDS) {
          errors.push({
            type: 'ARGUMENT_LIMIT',
            path: fieldPath,
            locations: locationOf(selection),
            message: `You may not provide more than ${MAX_NODE_IDS} node ids; you provided ${count}.`,
          });
        }
        walk(selection.selectionSet, type, multiplier * count, fieldPath, seen);
      } else {
        walk(selection.selectionSet, type, multiplier, fieldPath, seen);
      }
    }
  };

  if (root) walk(operation.selectionSet, root, 1, [rootPath], new Set());
  if (nodeCount > MAX_NODES && errors.length === 0) {
    errors.push({
      type: 'MAX_NODE_LIMIT_EXCEEDED',
      message: `This query requests up to ${nodeCount.toLocaleString('en-US')} possible nodes which exceeds the maximum limit of ${MAX_NODES.toLocaleString('en-US')}.`,
    });
  }
  return { nodeCount, requestCount, cost: costOf(requestCount), errors };
}

function fieldOf(
  parent: GraphQLNamedType,
  node: FieldNode,
): GraphQLField<unknown, unknown> | undefined {
  if (!isObjectType(parent) && !isInterfaceType(parent)) return undefined;
  return parent.getFields()[node.name.value];
}

/** GitHub's connections: `…Connection` types reached through a field with `first`/`last`. */
function isConnection(field: GraphQLField<unknown, unknown>): boolean {
  const names = new Set(field.args.map((a) => a.name));
  return (
    getNamedType(field.type).name.endsWith('Connection') && names.has('first') && names.has('last')
  );
}

function isListField(field: GraphQLField<unknown, unknown>): boolean {
  const type = isNonNullType(field.type) ? field.type.ofType : field.type;
  return isListType(type);
}

function argumentValues(
  field: GraphQLField<unknown, unknown>,
  node: FieldNode,
  variables: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const arg of field.args) {
    const given = node.arguments?.find((a) => a.name.value === arg.name);
    const value = given
      ? valueFromAST(given.value, arg.type, variables as Record<string, unknown>)
      : arg.defaultValue;
    if (value !== undefined) values[arg.name] = value;
  }
  return values;
}

/** The page size a connection asks for, checking GitHub's bounds (1..100, `first` or `last` given). */
function pageSize(
  node: FieldNode,
  args: Record<string, unknown>,
  path: string[],
  errors: GithubGraphqlError[],
): number {
  const name = node.name.value;
  const first = typeof args.first === 'number' ? args.first : undefined;
  const last = typeof args.last === 'number' ? args.last : undefined;
  if (first === undefined && last === undefined) {
    errors.push({
      type: 'MISSING_PAGINATION_BOUNDARIES',
      path,
      locations: locationOf(node),
      message: `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
    });
    return 0;
  }
  for (const [argument, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value === undefined) continue;
    if (value > MAX_PAGE_SIZE) {
      errors.push({
        type: 'EXCESSIVE_PAGINATION',
        path,
        locations: locationOf(node),
        message: `Requesting ${value} records on the \`${name}\` connection exceeds the \`${argument}\` limit of ${MAX_PAGE_SIZE} records.`,
      });
    } else if (value < 0) {
      errors.push({
        type: 'INVALID_PAGINATION',
        path,
        locations: locationOf(node),
        message: `\`${argument}\` on the \`${name}\` connection cannot be less than zero.`,
      });
    }
  }
  return Math.max(first ?? 0, last ?? 0);
}

function locationOf(node: FieldNode): { line: number; column: number }[] {
  return node.loc ? [getLocation(node.loc.source, node.loc.start)] : [];
}
