import { Option, type Command as CommanderCommand } from 'commander';
import { UsageError, type CliIo } from '../command.js';
import type { TableView } from './format.js';

/** How a command prints its result: a table (the default), JSON, YAML, or a wide table. */
export type OutputFormat = 'table' | 'json' | 'yaml' | 'wide';

/** An option's parser: given once; a second time is a usage error rather than silently winning. */
export function once(flag: string) {
  return (value: string, previous: string | undefined) => {
    if (previous !== undefined) throw new UsageError(`${flag} is given twice`);
    return value;
  };
}

/** Declares `-f, --file FILE` (`-` reads stdin); a second `-f` is a usage error. */
export function addFileOption(command: CommanderCommand, name: string): void {
  command.addOption(
    new Option('-f, --file <FILE>', 'the campaign spec file; - reads it from stdin').argParser(
      (value: string, previous: string | undefined) => {
        if (previous !== undefined) throw new UsageError(`${name} takes one spec file`);
        return value;
      },
    ),
  );
}

/** The spec file named by `-f`, or a usage error saying it is needed. */
export function specFileOf(name: string, options: Record<string, unknown>): string {
  const file = options['file'] as string | undefined;
  if (file === undefined) throw new UsageError(`${name} needs the spec file: -f FILE`);
  if (file === '') throw new UsageError('-f needs a file name');
  return file;
}

/** Declares `-o, --output FORMAT` with the formats a command prints, and `--json` as `-o json`. */
export function addOutputOptions(
  command: CommanderCommand,
  formats: readonly Exclude<OutputFormat, 'table'>[],
): void {
  command
    .addOption(
      new Option('-o, --output <FORMAT>', 'print the result as FORMAT instead of a table').choices(
        formats,
      ),
    )
    .option('--json', 'the same as -o json');
}

/** The output format asked for; `--json` with another `-o` is a contradiction. */
export function outputOf(options: Record<string, unknown>): OutputFormat {
  const output = options['output'] as Exclude<OutputFormat, 'table'> | undefined;
  if (options['json'] === true) {
    if (output !== undefined && output !== 'json')
      throw new UsageError(`--json contradicts -o ${output}: give one of them`);
    return 'json';
  }
  return output ?? 'table';
}

/** The structured formats print data as it is; the others render it for people. */
export function isStructured(format: OutputFormat): format is 'json' | 'yaml' {
  return format === 'json' || format === 'yaml';
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration such as `90s`, `5m`, `1h30m` or `500ms` in milliseconds; a bare number is seconds.
 * Anything else, or zero, is a usage error.
 */
export function parseDuration(option: string, value: string): number {
  const text = value.trim();
  let ms = 0;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) {
    for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
      ms += Number(amount) * UNIT_MS[unit!]!;
  }
  if (!(ms > 0) || !Number.isFinite(ms))
    throw new UsageError(`${option} needs a duration such as 30s, 5m or 1h30m (got "${value}")`);
  return Math.round(ms);
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything non-empty. */
export function colourWanted(io: CliIo): boolean {
  const noColor = io.env['NO_COLOR'];
  return io.stdoutIsTTY === true && (noColor === undefined || noColor === '');
}

/**
 * How tables are shown for this output: cut to the terminal's width only on a terminal and never
 * wide, coloured per NO_COLOR.
 */
export function tableView(io: CliIo, format: OutputFormat): TableView {
  return {
    tty: io.stdoutIsTTY === true,
    colour: colourWanted(io),
    wide: format === 'wide',
    columns: io.columns,
  };
}
