import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../command.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the version of this campaign CLI',
  usage: 'campaign version',
  async run(args, io) {
    if (args.length > 0) throw new UsageError(`version takes no arguments (got ${args.join(' ')})`);
    io.stdout(`campaign ${pkg.version}\n`);
    return EXIT.ok;
  },
};
