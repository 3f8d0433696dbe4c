import { Command as Program, CommanderError } from 'commander';
import { EXIT, UsageError, type CliIo, type Command } from './command.js';
import { adminCommand } from './commands/admin.command.js';
import { applyCommand } from './commands/apply.command.js';
import { auditCommand } from './commands/audit.command.js';
import { burndownCommand } from './commands/burndown.command.js';
import { changesetsCommand } from './commands/changesets.command.js';
import { closeCommand, deleteCommand } from './commands/close.command.js';
import { completionCommand } from './commands/completion.command.js';
import { loginCommand, logoutCommand, whoamiCommand } from './commands/identity.command.js';
import { listCommand } from './commands/list.command.js';
import {
  addNamespaceOption,
  NAMESPACE_ENV,
  NAMESPACED_COMMANDS,
  namespaceOf,
} from './commands/namespace.js';
import { newCommand } from './commands/new.command.js';
import { previewCommand } from './commands/preview.command.js';
import { reposCommand } from './commands/repos.command.js';
import { schemaCommand } from './commands/schema.command.js';
import { CliFailure } from './commands/spec-service-client.js';
import { statusCommand } from './commands/status.command.js';
import { validateCommand } from './commands/validate.command.js';
import { versionCommand, versionLine } from './commands/version.command.js';

/** Every subcommand, in the order the help lists them. */
export const commands: readonly Command[] = [
  newCommand,
  validateCommand,
  reposCommand,
  previewCommand,
  applyCommand,
  statusCommand,
  changesetsCommand,
  listCommand,
  closeCommand,
  deleteCommand,
  auditCommand,
  burndownCommand,
  loginCommand,
  logoutCommand,
  whoamiCommand,
  adminCommand,
  schemaCommand,
  versionCommand,
  completionCommand,
];

/** Width of help text when stdout is not a terminal. */
const HELP_WIDTH = 100;

/**
 * Runs one command line; returns the exit code. Parsing, help and suggestions are commander's;
 * bad input is one line on stderr (and the usage), never a stack trace.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    return EXIT.usage;
  }
  const [name, ...rest] = argv;
  // `help NAME` is `NAME --help`; for an unknown NAME, commander answers with a suggestion.
  const topic = name === 'help' ? rest[0] : undefined;
  const line =
    topic === undefined
      ? [...argv]
      : commands.some((c) => c.name === topic)
        ? [topic, '--help']
        : [topic];
  const command = commands.find((c) => c.name === line[0]);
  try {
    await program.parseAsync(line, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end parsing with exit code 0.
      if (err.exitCode === 0) return EXIT.ok;
      return usageError(io, commanderMessage(err, command), command);
    }
    if (err instanceof UsageError) return usageError(io, err.message, command);
    if (err instanceof CliFailure) {
      io.stderr(err.prefixed ? `campaign: ${err.message}\n` : `${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`campaign ${name}: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}

/** The program with every command and flag declared, for `campaign completion`; it runs nothing. */
export function programTree(): Program {
  return buildProgram(
    { stdout: () => undefined, stderr: () => undefined, env: {} },
    () => undefined,
  );
}

function buildProgram(io: CliIo, exitWith: (code: number) => void): Program {
  const width = () => (io.stdoutIsTTY && io.columns ? io.columns : HELP_WIDTH);
  const program = new Program('campaign')
    .description('Declarative large-scale code changes across many repositories.')
    .usage('<command> [options]')
    .version(versionLine, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [COMMAND]', "show a command's help: options, environment, examples")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (t) => io.stdout(t),
      writeErr: (t) => io.stderr(t),
      // Errors are thrown (exitOverride) and reported by runCli in one line.
      outputError: () => undefined,
      getOutHelpWidth: width,
      getErrHelpWidth: width,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .configureHelp({ subcommandTerm: (c) => c.name() })
    .addHelpText(
      'after',
      '\nRun "campaign help COMMAND" (or "campaign COMMAND --help") for its options, environment\n' +
        'variables, examples and exit codes.\n',
    );
  for (const c of commands) {
    const sub = program
      .command(c.name)
      .description(c.summary)
      .usage(c.usage.replace(/^campaign \S+ ?/, ''))
      .allowExcessArguments(true);
    c.configure(sub);
    if (NAMESPACED_COMMANDS.has(c.name)) addNamespaceOption(sub);
    sub.addHelpText('after', helpAfter(c));
    sub.action(async (...params: unknown[]) => {
      const self = params.at(-1) as Program;
      const declared = self.registeredArguments.length;
      // A variadic last argument (admin's WORDS...) takes all the rest.
      const extra = self.registeredArguments.at(-1)?.variadic ? [] : self.args.slice(declared);
      if (extra.length > 0) throw excessArguments(c, self, extra);
      // -n is $CAMPAIGN_NAMESPACE for this command: every request and log read takes it there.
      const namespace = self.opts()['namespace'] as string | undefined;
      const env = namespace === undefined ? io.env : { ...io.env, [NAMESPACE_ENV]: namespace };
      namespaceOf(env);
      exitWith(
        await c.run(
          { options: self.opts(), args: self.processedArgs as (string | undefined)[] },
          env === io.env ? io : { ...io, env },
        ),
      );
    });
  }
  return program;
}

/** The help after the options: environment variables, examples, exit codes. */
function helpAfter(c: Command): string {
  const table = (rows: readonly (readonly [string, string])[]) => {
    const width = Math.max(...rows.map(([k]) => k.length));
    return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
  };
  const parts: string[] = [];
  if (c.help.env.length > 0) parts.push(`Environment:\n${table(c.help.env)}`);
  if (c.help.examples.length > 0)
    parts.push(
      `Examples:\n${c.help.examples.map(([line, what]) => `  # ${what}\n  ${line}`).join('\n')}`,
    );
  parts.push(
    `Exit codes:\n${table(c.help.exitCodes.map(([code, meaning]) => [String(code), meaning]))}`,
  );
  return `\n${parts.join('\n\n')}\n`;
}

function excessArguments(c: Command, self: Program, extra: string[]): UsageError {
  if (self.registeredArguments.length > 0)
    return new UsageError(`unexpected argument "${extra[0]}" for ${c.name}`);
  const hint = self.options.some((o) => o.long === '--file')
    ? '; name the spec file with -f FILE'
    : '';
  return new UsageError(`${c.name} takes no arguments (got ${extra.join(' ')})${hint}`);
}

/** commander's error as one line in this CLI's words (its suggestion kept). */
function commanderMessage(err: CommanderError, command: Command | undefined): string {
  const text = err.message.replace(/^error: /, '');
  const suggestion = /\(Did you mean (.+?)\?\)/.exec(text)?.[1];
  const didYouMean = suggestion ? ` Did you mean "${suggestion}"?` : '';
  if (err.code === 'commander.unknownCommand') {
    const name = /unknown command '(.*)'/.exec(text)?.[1] ?? '';
    return `unknown command "${name}".${didYouMean} Run "campaign help" for the list of commands.`;
  }
  if (err.code === 'commander.unknownOption') {
    const option = /unknown option '(.*)'/.exec(text)?.[1] ?? '';
    return `unknown option "${option}"${command ? ` for ${command.name}` : ''}.${didYouMean}`;
  }
  const missing = /^option '(.+?)(?: <.*>)?' argument missing/.exec(text);
  if (missing) return `${missing[1]} needs a value`;
  const choice =
    /^option '(.+?)(?: <.*>)?' argument '(.*)' is invalid\. Allowed choices are (.*)\./.exec(text);
  if (choice) return `${choice[1]} ${choice[2]}: it is one of ${choice[3]}`;
  const argument =
    /^command-argument value '(.*)' is invalid for argument '(.+?)'\. Allowed choices are (.*)\./.exec(
      text,
    );
  if (argument) return `${argument[2]} ${argument[1]}: it is one of ${argument[3]}`;
  return text.split('\n')[0]!.replace(/'/g, '"');
}

function usageError(io: CliIo, message: string, command: Command | undefined): number {
  const usage = command ? `Usage: ${command.usage}\n` : '';
  io.stderr(`campaign: ${message}\n${usage}`);
  return EXIT.usage;
}
