// Validates REST responses against the response schema of their operation in GitHub's official
// OpenAPI description (@octokit/openapi, api.github.com). OpenAPI 3.0 schemas use `nullable`,
// which Ajv understands; their `#/components/...` references are rewritten to point into one
// registered document so any operation's schema compiles on its own.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  literalLength: number;
  responses: Record<string, Json>;
}

export interface ValidationFailure {
  method: string;
  url: string;
  status: number;
  operation: string | null;
  errors: string[];
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Points `#/...` references into the registered document and turns OpenAPI 3.0's `nullable`
 * into JSON Schema: `nullable` beside `type` is Ajv's own keyword (null is added to an `enum`),
 * `nullable` without `type` (beside `$ref` or `allOf`) becomes `anyOf [schema, null]`.
 */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] =
        k === '$ref' && typeof v === 'string' && v.startsWith('#/')
          ? `gh${v}`
          : k === 'properties' || k === 'patternProperties'
            ? mapValues(v as Json)
            : rewriteRefs(v);
    }
    if (out.nullable === true) {
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      if (out.type === undefined) {
        const { nullable: _nullable, ...rest } = out;
        return { anyOf: [rest, { type: 'null' }] };
      }
    }
    return out;
  }
  return node;
}

function mapValues(properties: Json): Json {
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, rewriteRefs(v)]));
}

let shared: OpenApiValidator | null = null;

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();
  readonly failures: ValidationFailure[] = [];
  /** Operation keys ("GET /repos/{owner}/{repo}") validated so far, with counts. */
  readonly validated = new Map<string, number>();
  private readonly sharedResponses: Record<string, Json>;

  /** One validator per test file: parsing the description takes a moment. */
  static shared(): OpenApiValidator {
    shared ??= new OpenApiValidator();
    return shared;
  }

  constructor() {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      paths: Record<string, Record<string, Json>>;
      components: Json & { responses: Record<string, Json> };
    };
    this.sharedResponses = doc.components.responses;
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'gh', components: rewriteRefs(doc.components) } as Json);
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        let literalLength = 0;
        const pattern = template
          .split(/(\{[^}]+\})/)
          .map((part) => {
            if (part.startsWith('{'))
              return part === '{path}' || part === '{ref}' || part === '{+path}'
                ? '(.+)'
                : '([^/]+)';
            literalLength += part.length;
            return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          })
          .join('');
        this.operations.push({
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${pattern}$`),
          literalLength,
          responses: (op.responses ?? {}) as Record<string, Json>,
        });
      }
    }
    this.operations.sort((a, b) => b.literalLength - a.literalLength);
  }

  /** The operation for a method and a path (a template like Octokit's, or a concrete path). */
  findOperation(method: string, path: string): Operation | null {
    const upper = method.toUpperCase();
    return (
      this.operations.find((o) => o.method === upper && o.template === path) ??
      this.operations.find((o) => o.method === upper && o.regex.test(path)) ??
      null
    );
  }

  /**
   * Validates one response; records and returns a failure (or null). `path` is relative to the
   * API root (no /api/v3), with or without the query string.
   */
  check(method: string, path: string, status: number, body: unknown): ValidationFailure | null {
    // Octokit passes templates, or full URLs when following Link headers.
    const bare = (
      /^https?:/.test(path) ? new URL(path).pathname.replace(/^\/api\/v3/, '') : path
    ).split('?')[0]!;
    const operation = this.findOperation(method, bare);
    const fail = (errors: string[]) => {
      const failure = {
        method,
        url: path,
        status,
        operation: operation ? `${method} ${operation.template}` : null,
        errors,
      };
      this.failures.push(failure);
      return failure;
    };
    if (!operation) return fail(['no operation in the OpenAPI description']);
    let response = operation.responses[String(status)] as
      { $ref?: string; content?: Record<string, { schema?: Json }> } | undefined;
    if (response?.$ref)
      response = this.sharedResponses[response.$ref.split('/').pop()!] as typeof response;
    if (!response && status >= 400) {
      // GitHub documents the usual errors, not every one (401 and 403 can answer anything):
      // undocumented errors must still be GitHub's basic error.
      response = {
        content: { 'application/json': { schema: { $ref: '#/components/schemas/basic-error' } } },
      };
    }
    if (!response)
      return fail([
        `status ${status} is not a documented response (${Object.keys(operation.responses).join(', ')})`,
      ]);
    const key = `${method.toUpperCase()} ${operation.template}`;
    this.validated.set(key, (this.validated.get(key) ?? 0) + 1);
    const schema = response.content?.['application/json']?.schema;
    if (!schema)
      return body === undefined || body === '' || body === null
        ? null
        : fail(['a body where GitHub documents none']);
    const cacheKey = `${key} ${status}`;
    let validate = this.compiled.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as Json);
      this.compiled.set(cacheKey, validate);
    }
    if (validate(body)) return null;
    return fail(
      (validate.errors ?? [])
        .slice(0, 20)
        .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`),
    );
  }
}
