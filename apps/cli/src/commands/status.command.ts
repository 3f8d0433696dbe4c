import type { CampaignStatus, GetRequest } from '@campaigns/contracts';
import { EXIT, UsageError, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { EXIT_NEEDS_ATTENTION } from './apply.command.js';
import { followApplication, stoppedWaitingLine, timeoutOf, WAIT_OPTIONS } from './follow.js';
import { formatStatus } from './format.js';
import { COLOUR_ENV, NATS_ENV } from './help-text.js';
import { addOutputOptions, isStructured, outputOf, tableView } from './options.js';
import { printData } from './output.js';
import { clientSettings, withSpecService } from './spec-service-client.js';
import { fullStatus, PageError } from './status-pages.js';

export const statusCommand: Command = {
  name: 'status',
  summary: "Show a campaign's phase, changesets and failures; --wait follows its last apply",
  usage: 'campaign status NAME [--wait [--timeout DURATION]] [-o json|yaml|wide]',
  configure(command) {
    command
      .argument('[NAME]', 'the campaign')
      .option('--wait', WAIT_OPTIONS.wait)
      .option('--timeout <DURATION>', WAIT_OPTIONS.timeout);
    addOutputOptions(command, ['json', 'yaml', 'wide']);
  },
  help: {
    env: [
      ...NATS_ENV,
      ['CAMPAIGN_POLL_INTERVAL_MS', 'how often --wait asks for the status (default 500)'],
      ...COLOUR_ENV,
    ],
    examples: [
      ['campaign status hello-world', 'phase, counts, changesets, failed executions, problems'],
      ['campaign status hello-world --wait', 'follow its last apply until it completes'],
      [
        'campaign status hello-world -o wide',
        'every execution, and whether each changeset has converged',
      ],
      ['campaign status hello-world -o json', 'the summary with every changeset and execution'],
    ],
    exitCodes: [
      [0, 'success (with --wait: the campaign is complete)'],
      [
        1,
        'spec-service answered with an error, e.g. no such campaign; with --timeout: not in time',
      ],
      [2, 'the command line is wrong, or NATS or spec-service cannot be reached'],
      [3, 'with --wait: the campaign needs attention'],
      [130, 'Ctrl-C while waiting'],
    ],
  },
  async run({ options, args }, io) {
    const campaign = args[0];
    if (campaign === undefined || campaign === '')
      throw new UsageError('status needs the campaign name');
    const format = outputOf(options);
    const wait = options['wait'] === true;
    const timeoutMs = timeoutOf(options);
    const settings = clientSettings(io.env);
    settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);
    return withSpecService(
      io.env,
      async (client) => {
        const request: GetRequest = { campaign };
        const reply = await client.request<CampaignStatus>('get', request);
        if (!reply.ok) return reportApiError('status', reply.error, io, format);
        const { ok: _ok, ...current } = reply;
        let summary: CampaignStatus = current;
        if (wait) {
          const followed = await followApplication(client, summary, io, {
            timeoutMs,
            format,
          });
          if ('stopped' in followed) {
            io.stderr(`${stoppedWaitingLine(campaign, followed)}\n`);
            return followed.stopped === 'interrupted' ? EXIT.interrupted : EXIT.failed;
          }
          summary = followed.outcome;
        }
        try {
          // The table shows only the failed executions; the other outputs have them all.
          const status = await fullStatus(
            client,
            summary,
            format === 'table' ? 'failed' : 'all',
            format !== 'table',
          );
          if (isStructured(format)) printData(io, format, status);
          else io.stdout(formatStatus(status, tableView(io, format)));
        } catch (err) {
          if (err instanceof PageError) return reportApiError('status', err.error, io, format);
          throw err;
        }
        if (!wait) return EXIT.ok;
        return summary.phase === 'complete' ? EXIT.ok : EXIT_NEEDS_ATTENTION;
      },
      settings,
    );
  },
};
