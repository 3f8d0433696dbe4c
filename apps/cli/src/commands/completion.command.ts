import { Argument } from 'commander';
import { EXIT, type Command } from '../command.js';
import { commandTree, completionScript, SHELLS, type Shell } from './completion.js';

export const completionCommand: Command = {
  name: 'completion',
  summary: 'Print a shell completion script (bash, zsh or fish) for every command and flag',
  usage: 'campaign completion bash|zsh|fish',
  configure(command) {
    command.addArgument(new Argument('<SHELL>', 'bash, zsh or fish').choices(SHELLS));
  },
  help: {
    env: [],
    examples: [
      ["echo 'source <(campaign completion bash)' >> ~/.bashrc", 'bash: complete in new shells'],
      ["echo 'source <(campaign completion zsh)' >> ~/.zshrc", 'zsh: the same'],
      ['campaign completion fish > ~/.config/fish/completions/campaign.fish', 'fish: the same'],
    ],
    exitCodes: [
      [0, 'success'],
      [2, 'the shell is not one of bash, zsh, fish'],
    ],
  },
  async run(input, io) {
    // Imported here: cli.ts lists this command, so a static import would be circular.
    const { programTree } = await import('../cli.js');
    io.stdout(completionScript(input.args[0] as Shell, commandTree(programTree())));
    return EXIT.ok;
  },
};
