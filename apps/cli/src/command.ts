import type { Command as CommanderCommand } from 'commander';

/** Where a command writes; tests pass buffers, the binary passes the process's streams. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** stderr is a terminal: `--wait` may show a live progress region there. */
  stderrIsTTY?: boolean;
  /** The terminal stderr writes to, for the live progress region (its width and height). */
  stderrTerminal?: Terminal;
  /** stdout is a terminal: tables may be cut to fit and coloured (unless NO_COLOR is set). */
  stdoutIsTTY?: boolean;
  /** stdout's terminal width, for help text and tables that fit it. */
  columns?: number;
  /** Read by `-f -`; the binary passes process.stdin. */
  stdin?: NodeJS.ReadableStream;
  /** Aborted on Ctrl-C: a command that waits stops waiting and says how to follow on. */
  interrupt?: AbortSignal;
}

/** A terminal to draw on: all that the live progress region uses of process.stderr. */
export interface Terminal {
  write(text: string): boolean;
  columns?: number;
  rows?: number;
  isTTY?: boolean;
}

/** The options and arguments commander parsed for one command. */
export interface CommandInput {
  /** Options by their camel-cased long name (`--file` → `file`). */
  options: Record<string, unknown>;
  /** The positional arguments, as declared by the command (optional ones may be undefined). */
  args: (string | undefined)[];
}

/** What `campaign <command> --help` shows after the options. */
export interface CommandHelp {
  /** Environment variables the command reads, with what they do. */
  env: readonly (readonly [name: string, meaning: string])[];
  examples: readonly (readonly [commandLine: string, what: string])[];
  exitCodes: readonly (readonly [code: number, meaning: string])[];
}

/** One `campaign` subcommand. `run` returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  /** The whole usage line(s), e.g. `campaign status NAME [-o json|yaml|wide]`. */
  usage: string;
  /** Declares the command's arguments and options on commander's command. */
  configure(command: CommanderCommand): void;
  help: CommandHelp;
  run(input: CommandInput, io: CliIo): Promise<number>;
}

/**
 * Exit codes: 0 success, 1 the command ran and failed, 2 the command line itself is wrong,
 * 130 interrupted (Ctrl-C) while waiting.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** A mistake in the command line: reported as `campaign: <message>` with exit code 2. */
export class UsageError extends Error {}
