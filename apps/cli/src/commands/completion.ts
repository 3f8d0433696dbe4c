import type { Command as Program } from 'commander';

/** The shells `campaign completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** One flag as completion sees it. */
export interface FlagTree {
  /** `-o` and `--output`, whichever the flag has. */
  names: string[];
  takesValue: boolean;
  /** The fixed values (commander's choices), completed after the flag. */
  values: readonly string[];
  /** Its value names a file (`-f FILE`): the shell completes file names. */
  file: boolean;
  description: string;
}

/** The commands and their flags, read from the commander program so none can be forgotten. */
export interface CommandTree {
  name: string;
  summary: string;
  flags: FlagTree[];
  /** The fixed values of its positional arguments (`completion bash|zsh|fish`). */
  argValues: string[];
}

export function commandTree(program: Program): CommandTree[] {
  return program.commands.map((c) => ({
    name: c.name(),
    summary: c.description(),
    flags: c.options.map((o) => ({
      names: [o.short, o.long].filter((n): n is string => n !== undefined),
      takesValue: o.required || o.optional,
      values: o.argChoices ?? [],
      file: /<FILE>/.test(o.flags),
      description: o.description,
    })),
    argValues: c.registeredArguments.flatMap((a) => a.argChoices ?? []),
  }));
}

/** The completion script for `shell`. */
export function completionScript(shell: Shell, tree: readonly CommandTree[]): string {
  if (shell === 'fish') return fishScript(tree);
  const bash = bashScript(tree);
  // zsh runs the bash function through its bash compatibility layer.
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

/** Every command also takes -h/--help. */
const HELP = ['-h', '--help'];

function bashScript(tree: readonly CommandTree[]): string {
  const names = [...tree.map((c) => c.name), 'help'].join(' ');
  const valueCases: string[] = [];
  const flagCases: string[] = [];
  for (const c of tree) {
    for (const f of c.flags.filter((f) => f.takesValue)) {
      const pattern = f.names.map((n) => `"${c.name} ${n}"`).join('|');
      const reply =
        f.values.length > 0
          ? `COMPREPLY=($(compgen -W "${f.values.join(' ')}" -- "$cur"))`
          : f.file
            ? 'COMPREPLY=($(compgen -f -- "$cur"))'
            : 'COMPREPLY=()';
      valueCases.push(`    ${pattern}) ${reply}; return ;;`);
    }
    const flags = [...c.argValues, ...c.flags.flatMap((f) => f.names), ...HELP].join(' ');
    flagCases.push(`    ${c.name}) words="${flags}" ;;`);
  }
  return `# campaign completion for bash: source <(campaign completion bash)
_campaign() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="\${COMP_WORDS[1]}" words=""
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${names} --help --version" -- "$cur"))
    return
  fi
  case "$cmd $prev" in
${valueCases.join('\n')}
  esac
  case "$cmd" in
    help) words="${tree.map((c) => c.name).join(' ')}" ;;
${flagCases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _campaign campaign
`;
}

/** Text inside fish's single quotes. */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
}

function fishScript(tree: readonly CommandTree[]): string {
  const lines = [
    '# campaign completion for fish: campaign completion fish | source',
    'complete -c campaign -f',
    "complete -c campaign -n __fish_use_subcommand -a help -d 'show a command\\'s help'",
  ];
  for (const c of tree) {
    lines.push(
      `complete -c campaign -n __fish_use_subcommand -a ${c.name} -d ${fishQuote(c.summary)}`,
      `complete -c campaign -n '__fish_seen_subcommand_from help' -a ${c.name}`,
    );
    if (c.argValues.length > 0)
      lines.push(
        `complete -c campaign -n '__fish_seen_subcommand_from ${c.name}' -a ${fishQuote(c.argValues.join(' '))}`,
      );
    for (const f of c.flags) {
      const names = f.names
        .map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`))
        .join(' ');
      const value = !f.takesValue
        ? ''
        : f.values.length > 0
          ? ` -x -a ${fishQuote(f.values.join(' '))}`
          : f.file
            ? ' -r -F'
            : ' -x';
      lines.push(
        `complete -c campaign -n '__fish_seen_subcommand_from ${c.name}' ${names}${value} -d ${fishQuote(f.description)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
