import { readFileSync } from 'node:fs';
import { EXIT, type Command } from '../command.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** `campaign VERSION`, as `campaign version` and `campaign --version` print it. */
export const versionLine = `campaign ${pkg.version}`;

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the version of this campaign CLI',
  usage: 'campaign version',
  configure() {},
  help: { env: [], examples: [['campaign --version', 'the same']], exitCodes: [[0, 'success']] },
  async run(_input, io) {
    io.stdout(`${versionLine}\n`);
    return EXIT.ok;
  },
};
