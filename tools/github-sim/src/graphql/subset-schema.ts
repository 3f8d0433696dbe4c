import {
  buildASTSchema,
  Kind,
  parse,
  printSchema,
  type DefinitionNode,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type GraphQLSchema,
  type InputValueDefinitionNode,
  type NamedTypeNode,
  type TypeNode,
} from 'graphql';

/** For each object or interface type the subset keeps, the names of the fields it keeps. */
export type SchemaSubset = Readonly<Record<string, readonly string[]>>;

const keptDirectives = new Set(['deprecated', 'oneOf', 'specifiedBy']);

/**
 * Cuts `full` down to the listed types and fields. Field, argument, enum and input definitions
 * are copied from `full` unchanged, so every field of the subset has exactly GitHub's signature;
 * enums, input objects and scalars reachable from kept fields come along whole. An interface is
 * kept on a type only if the subset lists it. Throws when the list names a type or field `full`
 * does not have, or when a kept field returns an object type the list does not keep.
 */
export function buildSchemaSubset(full: GraphQLSchema, subset: SchemaSubset): GraphQLSchema {
  const document = parse(printSchema(full), { noLocation: true });
  const definitions = new Map<string, DefinitionNode>();
  for (const definition of document.definitions) {
    if ('name' in definition && definition.name) definitions.set(definition.name.value, definition);
  }

  const output: DefinitionNode[] = [];
  const pending: string[] = [];
  const included = new Set<string>();
  const include = (name: string): void => {
    if (!included.has(name)) {
      included.add(name);
      pending.push(name);
    }
  };
  const includeType = (type: TypeNode): void => include(namedType(type).name.value);
  for (const name of Object.keys(subset)) include(name);

  while (pending.length > 0) {
    const name = pending.pop()!;
    const definition = definitions.get(name);
    if (definition === undefined) {
      if (isBuiltInScalar(name)) continue;
      throw new Error(`GitHub's schema has no type ${name}`);
    }
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_DEFINITION: {
        const wanted = subset[name];
        if (wanted === undefined) {
          throw new Error(`a kept field returns ${name}: list it and the fields to keep`);
        }
        const fields = (definition.fields ?? []).filter((field) =>
          wanted.includes(field.name.value),
        );
        for (const fieldName of wanted) {
          if (!fields.some((field) => field.name.value === fieldName)) {
            throw new Error(`GitHub's ${name} has no field ${fieldName}`);
          }
        }
        for (const field of fields) {
          includeType(field.type);
          for (const argument of field.arguments ?? []) includeType(argument.type);
        }
        output.push({
          ...definition,
          description: undefined,
          directives: keepDirectives(definition.directives),
          interfaces: (definition.interfaces ?? []).filter(
            (i) => subset[i.name.value] !== undefined,
          ),
          fields: fields.map(stripField),
        });
        break;
      }
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
        for (const field of definition.fields ?? []) includeType(field.type);
        output.push({
          ...definition,
          description: undefined,
          directives: keepDirectives(definition.directives),
          fields: (definition.fields ?? []).map(stripInputValue),
        });
        break;
      case Kind.UNION_TYPE_DEFINITION:
        throw new Error(`unions are not supported in the subset (${name})`);
      case Kind.ENUM_TYPE_DEFINITION:
        output.push({
          ...definition,
          description: undefined,
          directives: keepDirectives(definition.directives),
          values: (definition.values ?? []).map((value) => ({
            ...value,
            description: undefined,
            directives: keepDirectives(value.directives),
          })),
        });
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
        output.push({
          ...definition,
          description: undefined,
          directives: keepDirectives(definition.directives),
        });
        break;
      default:
        break;
    }
  }
  const subsetDocument: DocumentNode = { kind: Kind.DOCUMENT, definitions: output };
  return buildASTSchema(subsetDocument);
}

function stripField(field: FieldDefinitionNode): FieldDefinitionNode {
  return {
    ...field,
    description: undefined,
    directives: keepDirectives(field.directives),
    arguments: (field.arguments ?? []).map(stripInputValue),
  };
}

function stripInputValue(value: InputValueDefinitionNode): InputValueDefinitionNode {
  return { ...value, description: undefined, directives: keepDirectives(value.directives) };
}

function keepDirectives(
  directives: readonly ConstDirectiveNode[] | undefined,
): ConstDirectiveNode[] {
  return (directives ?? []).filter((directive) => keptDirectives.has(directive.name.value));
}

function namedType(type: TypeNode): NamedTypeNode {
  return type.kind === Kind.NAMED_TYPE ? type : namedType(type.type);
}

function isBuiltInScalar(name: string): boolean {
  return ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(name);
}
