import {
  formatDiagnostic,
  parseCampaignSpec,
  type CampaignSpec,
  type CampaignSpecParseResult,
  type SpecDiagnostic,
} from '@campaigns/campaign-spec';
import { EXIT, type CliIo, type Command } from '../command.js';
import { addFileOption, addOutputOptions, isStructured, outputOf, specFileOf } from './options.js';
import { printData } from './output.js';
import { readSpecFile, specDisplayName, unreadableReason } from './spec-file.js';

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
  usage: 'campaign validate -f FILE [-o json|yaml]',
  configure(command) {
    addFileOption(command, 'validate');
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: [],
    examples: [
      ['campaign validate -f hello.campaign.yaml', 'check a spec offline: no services needed'],
      ['cat hello.campaign.yaml | campaign validate -f -', 'check a spec read from stdin'],
      [
        'campaign validate -f hello.campaign.yaml -o json',
        '{file, valid, summary, errors, warnings}',
      ],
    ],
    exitCodes: [
      [0, 'the spec is valid (warnings, if any, on stderr)'],
      [1, 'the spec is invalid: every error as FILE:LINE:COL: message'],
      [2, 'the command line is wrong or the file cannot be read'],
    ],
  },
  async run({ options }, io) {
    const file = specFileOf('validate', options);
    const format = outputOf(options);
    const shown = specDisplayName(file);
    const read = await checkSpecFile(file, shown, io);
    if ('reason' in read) {
      io.stderr(`campaign validate: cannot read ${shown}: ${read.reason}\n`);
      return EXIT.usage;
    }
    const { errors, warnings, spec } = read.result;
    const valid = errors.length === 0 && spec !== undefined;
    const summary = spec
      ? validSummary(shown, spec, warnings.length)
      : invalidSummary(shown, errors.length, warnings.length);
    if (isStructured(format)) {
      const output: ValidateJsonOutput = {
        file: shown,
        valid,
        summary,
        errors: errors.map(toJson),
        warnings: warnings.map(toJson),
      };
      printData(io, format, output);
    } else {
      for (const d of [...errors, ...warnings].sort(
        (a, b) => a.line - b.line || a.column - b.column,
      )) {
        io.stderr(`${formatDiagnostic(shown, d)}\n`);
      }
      if (valid) io.stdout(`${summary}\n`);
      else io.stderr(`${summary}\n`);
    }
    return valid ? EXIT.ok : EXIT.failed;
  },
};

/** The spec checked, or why the file cannot be read. A file over the size limit is not parsed. */
async function checkSpecFile(
  file: string,
  shown: string,
  io: CliIo,
): Promise<{ result: CampaignSpecParseResult } | { reason: string }> {
  try {
    const read = await readSpecFile(file, io.stdin);
    if ('tooLarge' in read) return { result: { errors: [read.tooLarge], warnings: [] } };
    return { result: parseCampaignSpec(read.text, shown) };
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
