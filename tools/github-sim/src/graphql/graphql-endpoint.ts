// POST /api/graphql as GitHub answers it: authentication required, every document validated
// against GitHub's full published schema first (so nothing GitHub would refuse is accepted), then
// against the part the sim serves; pagination and node limits checked and the call's points
// charged before anything runs; errors in GitHub's `{ errors: [{ type, path, locations, message }] }`.
import {
  execute,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  validate,
  valueFromAST,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import type { RateSnapshot } from '../limits/rate-limits.js';
import type { SimCore } from '../sim-core.js';
import type { Token } from '../state/model.js';
import {
  errorsOnly,
  executionError,
  notImplementedError,
  validationError,
  type GithubGraphqlError,
} from './errors.js';
import { executableSchema } from './executable-schema.js';
import { githubSchema } from './github-schema.js';
import { measureQuery } from './query-limits.js';
import type { GraphqlBackend, GraphqlContext, RateLimitView } from './resolvers.js';

/** What the endpoint needs of a running simulator. */
export type GraphqlCore = GraphqlBackend & Pick<SimCore, 'chargeGraphqlPoints'>;

export interface GraphqlHttpRequest {
  /** The parsed JSON body: `{ query, variables?, operationName? }`. */
  body: unknown;
  token: Token | null;
  remoteAddress: string;
}

export interface GraphqlHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const DOCS = 'https://docs.github.com/graphql';

function answer(
  body: unknown,
  headers: Record<string, string> = {},
  status = 200,
): GraphqlHttpResponse {
  return { status, headers, body };
}

function rateLimitHeaders(snapshot: RateSnapshot): Record<string, string> {
  return {
    'x-ratelimit-limit': String(snapshot.limit),
    'x-ratelimit-remaining': String(snapshot.remaining),
    'x-ratelimit-used': String(snapshot.used),
    'x-ratelimit-reset': String(snapshot.reset),
    'x-ratelimit-resource': 'graphql',
  };
}

function documentOf(query: string): DocumentNode | GithubGraphqlError[] {
  try {
    return parse(query);
  } catch (error) {
    if (error instanceof GraphQLError)
      return [{ message: error.message, locations: error.locations ?? [] }];
    throw error;
  }
}

/** `rateLimit(dryRun: true)` at the root: GitHub measures such a call without running it. */
function isDryRun(operation: OperationDefinitionNode, variables: Record<string, unknown>): boolean {
  const schema = executableSchema();
  const dryRunArg = schema
    .getQueryType()
    ?.getFields()
    .rateLimit?.args.find((a) => a.name === 'dryRun');
  return operation.selectionSet.selections.some(
    (selection) =>
      selection.kind === Kind.FIELD &&
      selection.name.value === 'rateLimit' &&
      selection.arguments?.some(
        (arg) =>
          arg.name.value === 'dryRun' &&
          dryRunArg &&
          valueFromAST(arg.value, dryRunArg.type, variables) === true,
      ) === true,
  );
}

export async function handleGraphqlRequest(
  core: GraphqlCore,
  request: GraphqlHttpRequest,
): Promise<GraphqlHttpResponse> {
  const { token } = request;
  if (token === null) {
    return answer(
      {
        message: 'This endpoint requires you to be authenticated.',
        documentation_url: `${DOCS}/guides/forming-calls-with-graphql#authenticating-with-graphql`,
      },
      {},
      401,
    );
  }
  const viewer = core.state.getAccount(token.login);
  if (viewer === undefined)
    return answer({ message: 'Bad credentials', documentation_url: DOCS }, {}, 401);

  const body = (request.body ?? {}) as {
    query?: unknown;
    variables?: unknown;
    operationName?: unknown;
  };
  if (typeof body.query !== 'string') {
    return answer(
      errorsOnly([{ message: 'A query attribute must be specified and must be a string.' }]),
    );
  }
  const document = documentOf(body.query);
  if (Array.isArray(document)) return answer(errorsOnly(document));

  const githubErrors = validate(githubSchema(), document);
  if (githubErrors.length > 0) return answer(errorsOnly(githubErrors.map(validationError)));
  const schema = executableSchema();
  const simErrors = validate(schema, document);
  if (simErrors.length > 0) return answer(errorsOnly(simErrors.map(notImplementedError)));

  const operationName =
    typeof body.operationName === 'string' && body.operationName !== ''
      ? body.operationName
      : undefined;
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    const message = operationName
      ? `No operation named "${operationName}"`
      : 'An operation name is required when the document has several operations';
    return answer(errorsOnly([{ message }]));
  }
  const inputs = (body.variables ?? {}) as Record<string, unknown>;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], inputs);
  if (coerced.errors) {
    return answer(
      errorsOnly(coerced.errors.map((e) => ({ message: e.message, locations: e.locations ?? [] }))),
    );
  }
  const variables = coerced.coerced;

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }
  const limits = measureQuery(schema, operation, fragments, variables);
  if (limits.errors.length > 0) return answer(errorsOnly(limits.errors));

  const dryRun = isDryRun(operation, variables);
  const charged = core.chargeGraphqlPoints(token, request.remoteAddress, dryRun ? 0 : limits.cost);
  const headers = rateLimitHeaders(charged.snapshot);
  if (!charged.ok) {
    return answer(
      errorsOnly([
        { type: 'RATE_LIMITED', message: `API rate limit exceeded for user ID ${viewer.id}.` },
      ]),
      { ...headers, 'x-ratelimit-remaining': '0' },
    );
  }
  const rateLimit: RateLimitView = {
    cost: limits.cost,
    limit: charged.snapshot.limit,
    nodeCount: limits.nodeCount,
    remaining: charged.snapshot.remaining,
    used: charged.snapshot.used,
    resetAt: new Date(charged.snapshot.reset * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const contextValue: GraphqlContext = { backend: core, viewer, rateLimit, dryRun };
  const result = await execute({
    schema,
    document,
    variableValues: inputs,
    operationName,
    contextValue,
  });
  const response: Record<string, unknown> = { data: result.data ?? null };
  if (result.errors && result.errors.length > 0)
    response.errors = result.errors.map(executionError);
  return answer(response, headers);
}
