import { EXIT, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { formatList } from './format.js';
import { COLOUR_ENV, NATS_ENV, NATS_EXIT_CODES } from './help-text.js';
import { addOutputOptions, isStructured, outputOf, tableView } from './options.js';
import { printData } from './output.js';
import { clientSettings, withSpecService } from './spec-service-client.js';
import { allCampaigns, PageError } from './status-pages.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'List the campaigns with their phase and changesets',
  usage: 'campaign list [-A] [-o json|yaml|wide]',
  configure(command) {
    command.option(
      '-A, --all-namespaces',
      'every namespace you may read (all of them, for a site admin) instead of one; over -n',
    );
    addOutputOptions(command, ['json', 'yaml', 'wide']);
  },
  help: {
    env: [...NATS_ENV, ...COLOUR_ENV],
    examples: [
      ['campaign list', 'every campaign: phase, changesets, open, merged, applied, by whom'],
      ['campaign list -o json', 'the same as JSON: {campaigns: [...]}'],
      ['campaign list -A', "every namespace's campaigns you may read, each named NAMESPACE/NAME"],
    ],
    exitCodes: NATS_EXIT_CODES,
  },
  async run({ options }, io) {
    const format = outputOf(options);
    const settings = clientSettings(io.env);
    settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);
    return withSpecService(
      io.env,
      async (client) => {
        let campaigns;
        try {
          campaigns = await allCampaigns(
            client,
            // The key present (and undefined) keeps -n / $CAMPAIGN_NAMESPACE out: -A wins.
            options['allNamespaces'] === true ? { allNamespaces: true, namespace: undefined } : {},
          );
        } catch (err) {
          if (err instanceof PageError) return reportApiError('list', err.error, io, format);
          throw err;
        }
        const list = { campaigns };
        if (isStructured(format)) printData(io, format, list);
        else io.stdout(formatList(list, tableView(io, format)));
        return EXIT.ok;
      },
      settings,
    );
  },
};
