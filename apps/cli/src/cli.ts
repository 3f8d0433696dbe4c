import { EXIT, UsageError, type CliIo, type Command } from './command.js';
import { applyCommand } from './commands/apply.command.js';
import { auditCommand } from './commands/audit.command.js';
import { listCommand } from './commands/list.command.js';
import { previewCommand } from './commands/preview.command.js';
import { schemaCommand } from './commands/schema.command.js';
import { CliFailure } from './commands/spec-service-client.js';
import { statusCommand } from './commands/status.command.js';
import { validateCommand } from './commands/validate.command.js';
import { versionCommand } from './commands/version.command.js';

/** Every subcommand; later issues add audit here. */
export const commands: readonly Command[] = [
  validateCommand,
  applyCommand,
  previewCommand,
  statusCommand,
  listCommand,
  auditCommand,
  schemaCommand,
  versionCommand,
];

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0),
  ]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length]![b.length]!;
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'campaign — declarative large-scale code changes',
    '',
    'Usage: campaign <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  Show this help, or a command's usage: campaign help <command>`,
    '',
  ].join('\n');
}

/** Runs one command line; returns the exit code. Bad input is one line on stderr, never a stack trace. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? args[0] : undefined;
    if (topic !== undefined) {
      const c = commands.find((x) => x.name === topic);
      if (!c) return usageError(io, unknownCommand(topic));
      io.stdout(`${c.summary}\n\nUsage: ${c.usage}\n`);
      return EXIT.ok;
    }
    io.stdout(help());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') return versionCommand.run([], io);
  const command = commands.find((c) => c.name === name);
  if (!command) return usageError(io, unknownCommand(name));
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) return usageError(io, `${err.message}\nUsage: ${command.usage}`);
    if (err instanceof CliFailure) {
      io.stderr(err.prefixed ? `campaign: ${err.message}\n` : `${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`campaign ${name}: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}

function unknownCommand(name: string): string {
  const names = [...commands.map((c) => c.name), 'help'];
  const closest = names.map((n) => ({ n, d: editDistance(name, n) })).sort((a, b) => a.d - b.d)[0]!;
  const hint = closest.d <= 2 ? ` Did you mean "${closest.n}"?` : '';
  return `unknown command "${name}".${hint} Run "campaign help" for the list of commands.`;
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`campaign: ${message}\n`);
  return EXIT.usage;
}
