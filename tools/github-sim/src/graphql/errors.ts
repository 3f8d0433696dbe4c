// GitHub's GraphQL error shape: `{ errors: [{ type, path, locations, message }] }` for execution
// errors, graphql-ruby's wording and `extensions.code` for documents that fail validation.
import { GraphQLError } from 'graphql';

export interface GithubGraphqlError {
  /** GitHub's error type: NOT_FOUND, FORBIDDEN, UNPROCESSABLE, RATE_LIMITED, MAX_NODE_LIMIT_EXCEEDED, … */
  type?: string;
  path?: readonly (string | number)[];
  locations?: readonly { line: number; column: number }[];
  message: string;
  extensions?: Record<string, unknown>;
}

/** An error a resolver throws to answer the way GitHub does; `type` becomes the error's type. */
export class GithubError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'GithubError';
  }
}

export const notFound = (message: string) => new GithubError('NOT_FOUND', message);

/** A validation error of graphql-js, worded as GitHub (graphql-ruby) words the common ones. */
export function validationError(error: GraphQLError): GithubGraphqlError {
  const locations = error.locations ?? [];
  let match = /^Cannot query field "(\w+)" on type "(\w+)"\./.exec(error.message);
  if (match) {
    const [, fieldName, typeName] = match;
    return {
      locations,
      message: `Field '${fieldName}' doesn't exist on type '${typeName}'`,
      extensions: { code: 'undefinedField', typeName, fieldName },
    };
  }
  match =
    /^Field "(\w+)" argument "(\w+)" of type "[^"]+" is required, but it was not provided\./.exec(
      error.message,
    );
  if (match) {
    const [, name, argument] = match;
    return {
      locations,
      message: `Field '${name}' is missing required arguments: ${argument}`,
      extensions: {
        code: 'missingRequiredArguments',
        className: 'Field',
        name,
        arguments: argument,
      },
    };
  }
  match = /^Unknown argument "(\w+)" on field "\w+\.(\w+)"\./.exec(error.message);
  if (match) {
    const [, argumentName, name] = match;
    return {
      locations,
      message: `Field '${name}' doesn't accept argument '${argumentName}'`,
      extensions: { code: 'argumentNotAccepted', name, typeName: 'Field', argumentName },
    };
  }
  return { locations, message: error.message };
}

/** A document GitHub accepts that asks for something the sim does not serve. */
export function notImplementedError(error: GraphQLError): GithubGraphqlError {
  return {
    type: 'NOT_IMPLEMENTED',
    locations: error.locations ?? [],
    message: `github-sim does not implement this part of GitHub's schema (the query is valid on GitHub): ${error.message}`,
  };
}

/** An error raised while executing, with GitHub's type, path and locations. */
export function executionError(error: GraphQLError): GithubGraphqlError {
  const original = error.originalError;
  const shape = { path: error.path ?? [], locations: error.locations ?? [] };
  if (original instanceof GithubError)
    return { type: original.type, ...shape, message: original.message };
  if (original === undefined || original instanceof GraphQLError)
    return { ...shape, message: error.message };
  // A bug in the sim: say so, with what went wrong, rather than hide it behind GitHub's generic text.
  return {
    ...shape,
    message: `Something went wrong while executing your query. (github-sim: ${original.message})`,
  };
}

/** A response that carries only errors (the document was not executed). */
export function errorsOnly(errors: readonly GithubGraphqlError[]): {
  errors: readonly GithubGraphqlError[];
} {
  return { errors };
}
