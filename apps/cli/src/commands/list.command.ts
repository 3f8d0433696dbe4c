import type { ListResult } from '@campaigns/events';
import { EXIT, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { formatList } from './format.js';
import { parseOptions } from './options.js';
import { clientSettings, withSpecService } from './spec-service-client.js';

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
        const reply = await client.request<ListResult>('list', {});
        if (!reply.ok) return reportApiError('list', reply.error, io, json);
        const { ok: _ok, ...list } = reply;
        io.stdout(json ? `${JSON.stringify(list, null, 2)}\n` : formatList(list));
        return EXIT.ok;
      },
      settings,
    );
  },
};
