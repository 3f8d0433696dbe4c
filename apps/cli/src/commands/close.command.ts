import type { CloseRequest, CloseResult, DeleteRequest, DeleteResult } from '@campaigns/contracts';
import { UsageError, type Command } from '../command.js';
import { askSpecService } from './api-reply.js';
import { NATS_ENV, NATS_EXIT_CODES } from './help-text.js';
import { addOutputOptions, outputOf } from './options.js';

function campaignArgument(args: (string | undefined)[], verb: string): string {
  const campaign = args[0];
  if (campaign === undefined || campaign === '')
    throw new UsageError(`${verb} needs the campaign name`);
  return campaign;
}

export const closeCommand: Command = {
  name: 'close',
  summary: 'Close a campaign: no more applies; --close-changesets closes its pull requests',
  usage: 'campaign close NAME [--close-changesets] [-o json|yaml]',
  configure(command) {
    command
      .argument('[NAME]', 'the campaign')
      .option(
        '--close-changesets',
        'also close its open pull requests (archived in the campaign) and detach its imported ones',
      );
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: NATS_ENV,
    examples: [
      ['campaign close hello-world', 'no spec can be applied any more; pull requests stay open'],
      [
        'campaign close hello-world --close-changesets',
        'and close its pull requests (follow with campaign status hello-world)',
      ],
    ],
    exitCodes: NATS_EXIT_CODES,
  },
  async run({ options, args }, io) {
    const campaign = campaignArgument(args, 'close');
    const format = outputOf(options);
    const request: CloseRequest = {
      campaign,
      closeChangesets: options['closeChangesets'] === true,
    };
    return askSpecService<CloseResult>(io, format, 'close', request, (result) =>
      !result.closed
        ? `Campaign ${campaign} was already closed`
        : request.closeChangesets
          ? `Closed campaign ${campaign}; closing ${result.closingChangesets} changesets (follow with: campaign status ${campaign})`
          : `Closed campaign ${campaign}; its pull requests are left as they are`,
    );
  },
};

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete a closed campaign: gone from list and status, its history kept for audit',
  usage: 'campaign delete NAME [-o json|yaml]',
  configure(command) {
    command.argument('[NAME]', 'the campaign (closed first with campaign close)');
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: NATS_ENV,
    examples: [
      [
        'campaign delete hello-world',
        'after campaign close: the name can be applied anew; campaign audit hello-world still shows it',
      ],
    ],
    exitCodes: NATS_EXIT_CODES,
  },
  async run({ options, args }, io) {
    const campaign = campaignArgument(args, 'delete');
    const format = outputOf(options);
    const request: DeleteRequest = { campaign };
    return askSpecService<DeleteResult>(
      io,
      format,
      'delete',
      request,
      () =>
        `Deleted campaign ${campaign}; its history stays in the log (campaign audit ${campaign})`,
    );
  },
};
