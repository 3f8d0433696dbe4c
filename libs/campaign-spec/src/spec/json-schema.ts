import { z } from 'zod';
import { campaignSpecSchema } from './campaign-spec.schema.js';

/** Where the generated schema is committed, relative to the repository root. */
export const JSON_SCHEMA_PATH = 'schema/campaign-spec.schema.json';

/**
 * The JSON Schema (draft 2020-12) of campaign specs, generated from the zod definition, for
 * editors (yaml-language-server) and other tools. It describes the file as written: defaults are
 * annotations and fields may be null where Sourcegraph allows it.
 */
export function campaignSpecJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(campaignSpecSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'throw',
  }) as Record<string, unknown>;
}
