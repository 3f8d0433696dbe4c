import type { CampaignStatus, GetRequest } from '@campaigns/contracts';
import { EXIT, UsageError, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { formatStatus } from './format.js';
import { parseOptions } from './options.js';
import { clientSettings, withSpecService } from './spec-service-client.js';
import { fullStatus, PageError } from './status-pages.js';

export const statusCommand: Command = {
  name: 'status',
  summary: "Show a campaign's phase, changesets and failures",
  usage: 'campaign status NAME [--json]',
  async run(args, io) {
    const options = parseOptions('status', args, { flags: ['--json'], positional: 1 });
    const campaign = options.positional[0];
    if (campaign === undefined || campaign === '')
      throw new UsageError('status needs the campaign name');
    const json = options.flags.has('--json');
    const settings = clientSettings(io.env);
    settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);
    return withSpecService(
      io.env,
      async (client) => {
        const request: GetRequest = { campaign };
        const reply = await client.request<CampaignStatus>('get', request);
        if (!reply.ok) return reportApiError('status', reply.error, io, json);
        const { ok: _ok, ...summary } = reply;
        try {
          // The table shows only the failed executions; --json has them all.
          const status = await fullStatus(client, summary, json ? 'all' : 'failed');
          io.stdout(json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
        } catch (err) {
          if (err instanceof PageError) return reportApiError('status', err.error, io, json);
          throw err;
        }
        return EXIT.ok;
      },
      settings,
    );
  },
};
