// Validates webhook payloads against GitHub's official webhook descriptions
// (`@octokit/openapi-webhooks`, api.github.com), the way the issue asks fidelity to be proven.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as <A extends Ajv | Ajv2020>(ajv: A) => A;

interface OpenApiDocument {
  webhooks: Record<
    string,
    { post: { requestBody: { content: Record<string, { schema: unknown }> } } }
  >;
  components: { schemas: Record<string, unknown> };
}

function load(path: string): OpenApiDocument {
  return JSON.parse(readFileSync(require.resolve(path), 'utf8')) as OpenApiDocument;
}

let ajv: Ajv2020 | undefined;
let webhooksDocument: OpenApiDocument | undefined;
const validators = new Map<string, ValidateFunction>();

function compiler(): Ajv2020 {
  if (ajv === undefined) {
    webhooksDocument = load('@octokit/openapi-webhooks/generated/api.github.com.json');
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    ajv.addSchema({ ...webhooksDocument, $id: 'webhooks.json' });
  }
  return ajv;
}

/** The key of an event in GitHub's webhooks description: `pull-request-opened`, `push`, … */
export function webhookOperationKey(event: string, action?: string): string {
  const base = event.replace(/_/g, '-');
  return action === undefined ? base : `${base}-${action.replace(/_/g, '-')}`;
}

/**
 * Validates `payload` as the body of event `event` (with `action`, when the event has actions)
 * against GitHub's schema for it; returns readable errors, empty when valid.
 */
export function webhookSchemaErrors(
  event: string,
  action: string | undefined,
  payload: unknown,
): string[] {
  const key = webhookOperationKey(event, action);
  let validate = validators.get(key);
  if (validate === undefined) {
    const compiled = compiler();
    if (webhooksDocument!.webhooks[key] === undefined) return [`GitHub has no webhook ${key}`];
    validate = compiled.compile({
      $ref: `webhooks.json#/webhooks/${key}/post/requestBody/content/application~1json/schema`,
    });
    validators.set(key, validate);
  }
  if (validate(payload)) return [];
  return (validate.errors ?? []).map(
    (error) => `${key}${error.instancePath} ${error.message ?? ''} ${JSON.stringify(error.params)}`,
  );
}

let restDocument: OpenApiDocument | undefined;
let restAjv: Ajv | undefined;

/**
 * Validates `body` against a component schema of GitHub's REST description (`@octokit/openapi`,
 * OpenAPI 3.0: draft-07 schemas with `nullable`).
 */
export function restSchemaErrors(schemaName: string, body: unknown): string[] {
  if (restAjv === undefined) {
    restDocument = load('@octokit/openapi/generated/api.github.com.json');
    restAjv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(restAjv);
    restAjv.addSchema({ ...restDocument, $id: 'rest.json' });
  }
  const validate = restAjv.compile({ $ref: `rest.json#/components/schemas/${schemaName}` });
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (error) =>
      `${schemaName}${error.instancePath} ${error.message ?? ''} ${JSON.stringify(error.params)}`,
  );
}
