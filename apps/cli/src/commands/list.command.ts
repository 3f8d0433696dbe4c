import { EXIT, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { formatList } from './format.js';
import { parseOptions } from './options.js';
import { clientSettings, withSpecService } from './spec-service-client.js';
import { allCampaigns, PageError } from './status-pages.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'List the campaigns with their phase and changesets',
  usage: 'campaign list [--json]',
  async run(args, io) {
    const options = parseOptions('list', args, { flags: ['--json'] });
    const json = options.flags.has('--json');
    const settings = clientSettings(io.env);
    settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);
    return withSpecService(
      io.env,
      async (client) => {
        let campaigns;
        try {
          campaigns = await allCampaigns(client);
        } catch (err) {
          if (err instanceof PageError) return reportApiError('list', err.error, io, json);
          throw err;
        }
        const list = { campaigns };
        io.stdout(json ? `${JSON.stringify(list, null, 2)}\n` : formatList(list));
        return EXIT.ok;
      },
      settings,
    );
  },
};
