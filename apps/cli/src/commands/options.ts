import { UsageError } from '../command.js';

/** A command line's flags, `-f FILE` and positional arguments. */
export interface ParsedOptions {
  file?: string;
  flags: Set<string>;
  positional: string[];
}

/** Parses `args`, refusing unknown options; `-f`/`--file` only when `file` is allowed. */
export function parseOptions(
  command: string,
  args: readonly string[],
  allowed: { flags: readonly string[]; file?: boolean; positional?: number },
): ParsedOptions {
  const parsed: ParsedOptions = { flags: new Set(), positional: [] };
  const setFile = (value: string | undefined, arg: string) => {
    if (value === undefined || value === '') throw new UsageError(`${arg} needs a file name`);
    if (parsed.file !== undefined) throw new UsageError(`${command} takes one spec file`);
    parsed.file = value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (allowed.flags.includes(arg)) parsed.flags.add(arg);
    else if (allowed.file && (arg === '-f' || arg === '--file')) setFile(args[++i], arg);
    else if (allowed.file && arg.startsWith('--file='))
      setFile(arg.slice('--file='.length), '--file');
    else if (arg.startsWith('-') && arg !== '-')
      throw new UsageError(`unknown option "${arg}" for ${command}`);
    else parsed.positional.push(arg);
  }
  if (parsed.positional.length > (allowed.positional ?? 0)) {
    throw new UsageError(
      `unexpected argument "${parsed.positional[allowed.positional ?? 0]}" for ${command}`,
    );
  }
  if (allowed.file && parsed.file === undefined)
    throw new UsageError(`${command} needs the spec file: -f FILE`);
  return parsed;
}
