import { campaignSpecJsonSchema } from '@campaigns/campaign-spec';
import { EXIT, UsageError, type Command } from '../command.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of campaign specs (for editors and other tools)',
  usage: 'campaign schema',
  async run(args, io) {
    if (args.length > 0) throw new UsageError(`schema takes no arguments (got ${args.join(' ')})`);
    io.stdout(`${JSON.stringify(campaignSpecJsonSchema(), null, 2)}\n`);
    return EXIT.ok;
  },
};
