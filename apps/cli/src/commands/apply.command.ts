import type { ApplyRequest, ApplyResult } from '@campaigns/contracts';
import { EXIT, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { followApplication, stoppedWaitingLine, timeoutOf, WAIT_OPTIONS } from './follow.js';
import { formatStatus } from './format.js';
import { COLOUR_ENV, NATS_ENV } from './help-text.js';
import {
  addFileOption,
  addOutputOptions,
  isStructured,
  outputOf,
  specFileOf,
  tableView,
} from './options.js';
import { printData } from './output.js';
import { readSpecText, specDisplayName } from './spec-file.js';
import { clientSettings, withSpecService } from './spec-service-client.js';
import { fullStatus, PageError } from './status-pages.js';

/** Exit code of `apply --wait` when the campaign converged with failures. */
export const EXIT_NEEDS_ATTENTION = 3;

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Apply a campaign spec; --wait follows it until it completes or needs attention',
  usage: 'campaign apply -f FILE [--wait [--timeout DURATION]] [-o json|yaml|wide]',
  configure(command) {
    addFileOption(command, 'apply');
    command
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
      ['campaign apply -f hello.campaign.yaml', 'send the spec; the services carry it out'],
      [
        'campaign apply -f hello.campaign.yaml --wait --timeout 30m',
        'and follow it, showing the counts, then print the status',
      ],
      ['generate-spec | campaign apply -f -', 'apply a spec read from stdin'],
      ['campaign apply -f hello.campaign.yaml -o json', 'the ApplyResult as JSON'],
    ],
    exitCodes: [
      [0, 'applied (with --wait: the campaign is complete)'],
      [1, 'the spec is invalid or spec-service refused it; with --timeout: not complete in time'],
      [2, 'the command line is wrong, the file cannot be read, or NATS/spec-service are down'],
      [3, 'with --wait: the campaign needs attention (failed executions or errored changesets)'],
      [130, 'Ctrl-C while waiting: the apply goes on; the line printed says how to follow it'],
    ],
  },
  async run({ options }, io) {
    const file = specFileOf('apply', options);
    const format = outputOf(options);
    const wait = options['wait'] === true;
    const timeoutMs = timeoutOf(options);
    const specText = await readSpecText('apply', file, io.stdin);
    const request: ApplyRequest = {
      fileName: specDisplayName(file),
      specText,
    };
    const settings = clientSettings(io.env);
    settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);

    return withSpecService(
      io.env,
      async (client) => {
        const reply = await client.request<ApplyResult>('apply', request);
        if (!reply.ok) return reportApiError('apply', reply.error, io, format);
        const { ok: _ok, ...result } = reply;
        for (const warning of result.warnings) io.stderr(`${warning}\n`);
        if (!wait) {
          if (isStructured(format)) printData(io, format, result);
          else io.stdout(`${appliedLine(result)}\n`);
          return EXIT.ok;
        }
        if (!isStructured(format)) io.stdout(`${appliedLine(result)}\n`);
        const followed = await followApplication(client, result, io, {
          timeoutMs,
          format,
        });
        if ('stopped' in followed) {
          io.stderr(`${stoppedWaitingLine(result.campaign, followed)}\n`);
          return followed.stopped === 'interrupted' ? EXIT.interrupted : EXIT.failed;
        }
        const outcome = followed.outcome;
        let status;
        try {
          // The rows once, at the end: the table shows only the failed executions.
          status = await fullStatus(
            client,
            outcome,
            format === 'table' ? 'failed' : 'all',
            format !== 'table',
          );
        } catch (err) {
          if (err instanceof PageError) return reportApiError('apply', err.error, io, format);
          throw err;
        }
        if (isStructured(format)) printData(io, format, { apply: result, status });
        else io.stdout(`\n${formatStatus(status, tableView(io, format))}`);
        return outcome.phase === 'complete' ? EXIT.ok : EXIT_NEEDS_ATTENTION;
      },
      settings,
    );
  },
};

function appliedLine(result: ApplyResult): string {
  return result.unchanged
    ? `Campaign ${result.campaign}: unchanged (the spec is already applied, apply ${result.applyId})`
    : `Applied campaign ${result.campaign} (apply ${result.applyId})`;
}
