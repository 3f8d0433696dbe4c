import {
  formatDiagnostic,
  parseCampaignSpec,
  type CampaignSpec,
  type CampaignSpecParseResult,
  type SpecDiagnostic,
} from '@campaigns/campaign-spec';
import { EXIT, UsageError, type Command } from '../command.js';
import { readSpecFile, unreadableReason } from './spec-file.js';

const USAGE = 'campaign validate -f FILE [--json]';

/** The `--json` output: stable keys for CI and editors. */
export interface ValidateJsonOutput {
  file: string;
  valid: boolean;
  summary: string;
  errors: JsonDiagnostic[];
  warnings: JsonDiagnostic[];
}

interface JsonDiagnostic {
  line: number;
  column: number;
  message: string;
  path: (string | number)[];
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check a campaign spec; print every problem as FILE:LINE:COL: message',
  usage: USAGE,
  async run(args, io) {
    const { file, json } = parseArgs(args);
    const read = await checkSpecFile(file);
    if ('reason' in read) {
      io.stderr(`campaign validate: cannot read ${file}: ${read.reason}\n`);
      return EXIT.usage;
    }
    const { errors, warnings, spec } = read.result;
    const valid = errors.length === 0 && spec !== undefined;
    const summary = spec
      ? validSummary(file, spec, warnings.length)
      : invalidSummary(file, errors.length, warnings.length);
    if (json) {
      const output: ValidateJsonOutput = {
        file,
        valid,
        summary,
        errors: errors.map(toJson),
        warnings: warnings.map(toJson),
      };
      io.stdout(`${JSON.stringify(output, null, 2)}\n`);
    } else {
      for (const d of [...errors, ...warnings].sort(
        (a, b) => a.line - b.line || a.column - b.column,
      )) {
        io.stderr(`${formatDiagnostic(file, d)}\n`);
      }
      if (valid) io.stdout(`${summary}\n`);
      else io.stderr(`${summary}\n`);
    }
    return valid ? EXIT.ok : EXIT.failed;
  },
};

function parseArgs(args: readonly string[]): { file: string; json: boolean } {
  let file: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--json') json = true;
    else if (arg === '-f' || arg === '--file') {
      const value = args[++i];
      if (value === undefined || value === '') throw new UsageError(`${arg} needs a file name`);
      if (file !== undefined) throw new UsageError('validate takes one spec file');
      file = value;
    } else if (arg.startsWith('--file=')) {
      if (file !== undefined) throw new UsageError('validate takes one spec file');
      file = arg.slice('--file='.length);
    } else {
      throw new UsageError(`unknown argument "${arg}" for validate`);
    }
  }
  if (file === undefined || file === '')
    throw new UsageError('validate needs the spec file: -f FILE');
  return { file, json };
}

/** The spec checked, or why the file cannot be read. A file over the size limit is not parsed. */
async function checkSpecFile(
  file: string,
): Promise<{ result: CampaignSpecParseResult } | { reason: string }> {
  try {
    const read = await readSpecFile(file);
    if ('tooLarge' in read) return { result: { errors: [read.tooLarge], warnings: [] } };
    return { result: parseCampaignSpec(read.text, file) };
  } catch (err) {
    return { reason: unreadableReason(err) };
  }
}

function toJson(d: SpecDiagnostic): JsonDiagnostic {
  return { line: d.line, column: d.column, message: d.message, path: [...d.path] };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function validSummary(file: string, spec: CampaignSpec, warnings: number): string {
  const queries = spec.on.filter((e) => 'repositoriesMatchingQuery' in e).length;
  const repositories = spec.on.length - queries;
  const imports = spec.importChangesets.reduce((n, i) => n + i.externalIDs.length, 0);
  const parts = [
    queries > 0 ? plural(queries, 'query', 'queries') : '',
    repositories > 0 ? plural(repositories, 'repository', 'repositories') : '',
    spec.steps.length > 0 ? plural(spec.steps.length, 'step') : '',
    imports > 0 ? plural(imports, 'changeset to track', 'changesets to track') : '',
  ].filter(Boolean);
  const contents = parts.length > 0 ? parts.join(', ') : 'nothing to change or track';
  const warned = warnings > 0 ? `, ${plural(warnings, 'warning')}` : '';
  return `${file}: valid campaign spec "${spec.name}" (${contents})${warned}`;
}

function invalidSummary(file: string, errors: number, warnings: number): string {
  const warned = warnings > 0 ? ` and ${plural(warnings, 'warning')}` : '';
  return `${file}: invalid campaign spec: ${plural(errors, 'error')}${warned}`;
}
