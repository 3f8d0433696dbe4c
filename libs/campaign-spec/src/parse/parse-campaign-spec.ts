import type { z } from 'zod';
import { campaignSpecSchema, type CampaignSpec } from '../spec/campaign-spec.schema.js';
import { childSchemas, declaredKeys } from '../spec/schema-navigation.js';
import { byPosition, type SpecDiagnostic } from './diagnostics.js';
import { Reporter } from './reporter.js';
import { describeSchemaIssues } from './schema-issues.js';
import type { PartialSpec } from './partial-spec.js';
import { runSemanticChecks } from './semantic-checks.js';
import { readSpecYaml } from './yaml-reader.js';

/** Spec files larger than this are refused before parsing: 1 MiB. */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** The outcome of reading a spec: the spec when it is valid, and every problem found. */
export interface CampaignSpecParseResult {
  /** Present when there are no errors. */
  readonly spec?: CampaignSpec;
  readonly errors: readonly SpecDiagnostic[];
  readonly warnings: readonly SpecDiagnostic[];
}

/**
 * Parses and validates a campaign spec. Never throws for bad input: every problem comes back as a
 * diagnostic at its line and column (format them with `formatDiagnostic(fileName, d)`).
 *
 * `fileName` is used to check that `steps[].mount` paths stay inside the spec's directory.
 */
export function parseCampaignSpec(
  text: string,
  fileName = 'campaign.yaml',
): CampaignSpecParseResult {
  // Four bytes per UTF-16 unit at most: count only when the text could be over the limit.
  const tooLarge = specSizeError(text.length * 4 <= MAX_SPEC_BYTES ? 0 : utf8Length(text));
  if (tooLarge) return { errors: [tooLarge], warnings: [] };
  try {
    return parse(text, fileName);
  } catch (err) {
    return failure(
      `internal error while validating the spec (${(err as Error).message}); please report this with the spec`,
    );
  }
}

function parse(text: string, fileName: string): CampaignSpecParseResult {
  const read = readSpecYaml(text, campaignSpecSchema);
  const reporter = new Reporter(read);
  for (const problem of read.problems) {
    reporter.offset(problem.offset, problem.message, problem.severity ?? 'error');
  }
  if (read.problems.some((p) => !p.recoverable)) return result(reporter);

  const value = read.value;
  if (value === null || value === undefined) {
    reporter.offset(0, 'the spec is empty; it needs at least a "name"');
    return result(reporter);
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    reporter.value(
      [],
      'the spec must be a mapping of keys (name, on, steps, changesetTemplate, …)',
    );
    return result(reporter);
  }

  const parsed = campaignSpecSchema.safeParse(value);
  if (!parsed.success) {
    for (const problem of describeSchemaIssues(parsed.error.issues, campaignSpecSchema, value)) {
      if (problem.atKey) reporter.key(problem.path, problem.message);
      else reporter.value(problem.path, problem.message);
    }
  }
  const written = value as Record<string, unknown>;
  runSemanticChecks(validParts(written), written, reporter, fileName);

  if (!parsed.success || reporter.errors.length > 0) return result(reporter);
  return result(reporter, withCollapsedDuplicates(parsed.data));
}

/**
 * The parts of the spec that are valid on their own, so that every check runs even where other
 * parts fail: whole sections, else the valid elements of a list (at their own indices, leaving
 * holes) or the valid fields of the changeset template.
 */
function validParts(value: Record<string, unknown>): PartialSpec {
  const partial: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(campaignSpecSchema.shape)) {
    const written = value[key];
    const section = schema.safeParse(written);
    if (section.success) {
      if (section.data !== undefined || key in value) partial[key] = section.data;
    } else if (Array.isArray(written)) {
      const [element] = childSchemas([schema], 0);
      if (element) partial[key] = validElements(element, written);
    } else if (isMapping(written) && declaredKeys([schema]).length > 0) {
      partial[key] = validFields(schema, written);
    }
  }
  return partial as PartialSpec;
}

function validElements(element: z.ZodType, written: unknown[]): unknown[] {
  const kept: unknown[] = new Array(written.length);
  written.forEach((item, i) => {
    const parsed = element.safeParse(item);
    if (parsed.success) kept[i] = parsed.data;
  });
  return kept;
}

function validFields(schema: z.ZodType, written: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(written)) {
    const [field] = childSchemas([schema], key);
    if (!field) continue;
    const parsed = field.safeParse(item);
    if (parsed.success) kept[key] = parsed.data;
    else if (isMapping(item) && declaredKeys([field]).length > 0)
      kept[key] = validFields(field, item);
  }
  return kept;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `on` entries that say the same thing twice collapse into one. */
function withCollapsedDuplicates(spec: CampaignSpec): CampaignSpec {
  const seen = new Set<string>();
  const on = spec.on.filter((entry) => {
    const key =
      'repositoriesMatchingQuery' in entry
        ? JSON.stringify(['q', entry.repositoriesMatchingQuery.trim()])
        : JSON.stringify([
            'r',
            entry.repository,
            entry.branch ?? null,
            entry.branches ? [...new Set(entry.branches)].sort() : null,
          ]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const dedupedOn = on.map((entry) =>
    'repository' in entry && entry.branches
      ? { ...entry, branches: [...new Set(entry.branches)] }
      : entry,
  );
  return { ...spec, on: dedupedOn };
}

function result(reporter: Reporter, spec?: CampaignSpec): CampaignSpecParseResult {
  return {
    spec,
    errors: [...reporter.errors].sort(byPosition),
    warnings: [...reporter.warnings].sort(byPosition),
  };
}

/** The error for a spec of `bytes` bytes when that is over the limit (callers can check a file's size before reading it). */
export function specSizeError(bytes: number): SpecDiagnostic | undefined {
  if (bytes <= MAX_SPEC_BYTES) return undefined;
  return {
    severity: 'error',
    line: 1,
    column: 1,
    path: [],
    message: `the spec is ${bytes} bytes; the limit is ${MAX_SPEC_BYTES} bytes (1 MiB). Move large file contents out of the spec (steps[].mount) or split the campaign`,
  };
}

function failure(message: string): CampaignSpecParseResult {
  return { errors: [{ severity: 'error', line: 1, column: 1, message, path: [] }], warnings: [] };
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
