import { campaignSpecJsonSchema } from '@campaigns/campaign-spec';
import { EXIT, type Command } from '../command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of campaign specs (for editors and other tools)',
  usage: 'campaign schema',
  configure() {},
  help: {
    env: [],
    examples: [['campaign schema > campaign-spec.schema.json', 'for yaml-language-server']],
    exitCodes: [[0, 'success']],
  },
  async run(_input, io) {
    io.stdout(`${JSON.stringify(campaignSpecJsonSchema(), null, 2)}\n`);
    return EXIT.ok;
  },
};
