import type { z } from 'zod';
import { campaignSpecSchema, type CampaignSpec } from '../spec/campaign-spec.schema.js';
import { childSchemas, declaredKeys } from '../spec/schema-navigation.js';
import { byPosition, type SpecDiagnostic } from './diagnostics.js';
import { Reporter } from './reporter.js';
import { cutOffAfterIssues } from './checking-cutoff.js';
import { describeSchemaIssues } from './schema-issues.js';
import type { PartialSpec } from './partial-spec.js';
import { runSemanticChecks } from './semantic-checks.js';
import {
  MAX_DESCRIBED_ISSUES,
  MAX_LISTED_DIAGNOSTICS,
  newSpecWork,
  type SpecWork,
} from './work.js';
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
 * The second argument, the spec's file name, is no longer read (it placed `steps[].mount` paths,
 * which are now refused whatever they name); callers keep passing it for their diagnostics.
 */
export function parseCampaignSpec(text: string, _fileName?: string): CampaignSpecParseResult {
  return parseCampaignSpecCounted(text).result;
}

/** `parseCampaignSpec`, also returning the work it took (what the limits in work.ts bound). */
export function parseCampaignSpecCounted(
  text: string,
  _fileName?: string,
): { result: CampaignSpecParseResult; work: SpecWork } {
  const work = newSpecWork();
  // Four bytes per UTF-16 unit at most: count only when the text could be over the limit.
  const tooLarge = specSizeError(text.length * 4 <= MAX_SPEC_BYTES ? 0 : utf8Length(text));
  if (tooLarge) return { result: { errors: [tooLarge], warnings: [] }, work };
  try {
    return { result: parse(text, work), work };
  } catch (err) {
    return {
      result: failure(
        `internal error while validating the spec (${(err as Error).message}); please report this with the spec`,
      ),
      work,
    };
  }
}

function parse(text: string, work: SpecWork): CampaignSpecParseResult {
  const read = readSpecYaml(text, campaignSpecSchema, work);
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

  const cut = cutOffAfterIssues(value, campaignSpecSchema, MAX_DESCRIBED_ISSUES);
  const written = cut.value as Record<string, unknown>;
  const parsed = campaignSpecSchema.safeParse(written);
  work.schemaIssues += cut.issues + (parsed.error?.issues.length ?? 0);
  if (parsed.success) {
    runSemanticChecks(parsed.data, written, reporter, work);
  } else {
    const issues = parsed.error.issues;
    // Describing an issue costs more than finding it: past this many, they are only counted.
    const described = issues.slice(0, MAX_DESCRIBED_ISSUES);
    for (const problem of describeSchemaIssues(described, campaignSpecSchema, written)) {
      if (problem.atKey) reporter.key(problem.path, problem.message);
      else reporter.value(problem.path, problem.message);
    }
    reporter.undescribedErrors += issues.length - described.length;
    runSemanticChecks(validParts(written, issues), written, reporter, work);
  }
  if (cut.stoppedAt) {
    reporter.stop(
      cut.stoppedAt,
      `checking stopped here after ${MAX_DESCRIBED_ISSUES} problems in the entries before it; fix those and validate again to check the rest`,
    );
  }

  if (!parsed.success || reporter.errors.length > 0) return result(reporter);
  return result(reporter, withCollapsedDuplicates(parsed.data));
}

/**
 * The parts of the spec that are valid on their own, so that every check runs even where other
 * parts fail: whole sections, else the valid elements of a list (at their own indices, leaving
 * holes) or the valid fields of the changeset template. Elements with an issue of their own are
 * not parsed again.
 */
function validParts(
  value: Record<string, unknown>,
  issues: readonly z.core.$ZodIssue[],
): PartialSpec {
  const failing = new Map<PropertyKey, Set<number>>();
  for (const issue of issues) {
    const [section, index] = issue.path;
    if (typeof index !== 'number' || section === undefined) continue;
    const indices = failing.get(section);
    if (indices) indices.add(index);
    else failing.set(section, new Set([index]));
  }
  const partial: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(campaignSpecSchema.shape)) {
    const written = value[key];
    const section = schema.safeParse(written);
    if (section.success) {
      if (section.data !== undefined || key in value) partial[key] = section.data;
    } else if (Array.isArray(written)) {
      const [element] = childSchemas([schema], 0);
      if (element) {
        const fails = failing.get(key);
        partial[key] = validElements(element, written, (i) => fails?.has(i) === true);
      }
    } else if (isMapping(written) && declaredKeys([schema]).length > 0) {
      partial[key] = validFields(schema, written);
    }
  }
  return partial as PartialSpec;
}

function validElements(
  element: z.ZodType,
  written: unknown[],
  fails: (index: number) => boolean,
): unknown[] {
  const kept: unknown[] = new Array(written.length);
  written.forEach((item, i) => {
    if (fails(i)) return;
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
    errors: [
      ...listed([...reporter.errors].sort(byPosition), 'error', reporter.undescribedErrors),
      ...(reporter.stopped ? [reporter.stopped] : []),
    ],
    warnings: listed([...reporter.warnings].sort(byPosition), 'warning', 0),
  };
}

/**
 * The first MAX_LISTED_DIAGNOSTICS diagnostics in file order, and one more that counts the rest
 * (with `unlisted` problems that were counted but not described).
 */
function listed(
  sorted: SpecDiagnostic[],
  kind: 'error' | 'warning',
  unlisted: number,
): SpecDiagnostic[] {
  if (sorted.length <= MAX_LISTED_DIAGNOSTICS && unlisted === 0) return sorted;
  const first = sorted.slice(0, MAX_LISTED_DIAGNOSTICS);
  const next = sorted[Math.min(MAX_LISTED_DIAGNOSTICS, sorted.length - 1)] ?? {
    severity: kind,
    line: 1,
    column: 1,
    path: [],
  };
  const more = sorted.length - first.length + unlisted;
  first.push({
    ...next,
    message: `and ${more} more ${kind}s from here on (only the first ${first.length} are listed)`,
  });
  return first;
}

/**
 * The error for a spec of `bytes` bytes when that is over the limit (callers can check a file's
 * size before reading it). `readUpTo`: reading stopped at `bytes`, so the spec has at least that
 * many (a pipe is not read to its end).
 */
export function specSizeError(
  bytes: number,
  { readUpTo = false }: { readUpTo?: boolean } = {},
): SpecDiagnostic | undefined {
  if (bytes <= MAX_SPEC_BYTES) return undefined;
  const size = readUpTo
    ? `more than ${MAX_SPEC_BYTES} bytes (reading stopped there)`
    : `${bytes} bytes`;
  return {
    severity: 'error',
    line: 1,
    column: 1,
    path: [],
    message: `the spec is ${size}; the limit is ${MAX_SPEC_BYTES} bytes (1 MiB). Move large file contents into the step's container image or split the campaign`,
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
