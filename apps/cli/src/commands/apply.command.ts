import { userInfo } from 'node:os';
import { pollUntil } from '@campaigns/events';
import {
  type ApplyRequest,
  type ApplyResult,
  type CampaignStatus,
  type GetRequest,
} from '@campaigns/contracts';
import { EXIT, type CliIo, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { formatProgress, formatStatus } from './format.js';
import { parseOptions } from './options.js';
import { readSpecText } from './spec-file.js';
import {
  clientSettings,
  CliFailure,
  withSpecService,
  type SpecServiceClient,
} from './spec-service-client.js';
import { fullStatus, PageError } from './status-pages.js';

const USAGE = 'campaign apply -f FILE [--wait] [--json]';

/** Exit code of `apply --wait` when the campaign converged with failures. */
export const EXIT_NEEDS_ATTENTION = 3;
const POLL_INTERVAL_MS = 500;

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Apply a campaign spec; --wait follows it until it completes or needs attention',
  usage: USAGE,
  async run(args, io) {
    const options = parseOptions('apply', args, { flags: ['--wait', '--json'], file: true });
    const file = options.file!;
    const json = options.flags.has('--json');
    const wait = options.flags.has('--wait');
    const specText = await readSpecText('apply', file);
    const request: ApplyRequest = { fileName: file, specText, actor: actorOf(io.env) };
    const settings = clientSettings(io.env);
    settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);

    return withSpecService(
      io.env,
      async (client) => {
        const reply = await client.request<ApplyResult>('apply', request);
        if (!reply.ok) return reportApiError('apply', reply.error, io, json);
        const { ok: _ok, ...result } = reply;
        for (const warning of result.warnings) io.stderr(`${warning}\n`);
        if (!wait) {
          if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
          else io.stdout(`${appliedLine(result)}\n`);
          return EXIT.ok;
        }
        if (!json) io.stdout(`${appliedLine(result)}\n`);
        const outcome = await waitForOutcome(client, result, io);
        let status;
        try {
          // The rows once, at the end: the table shows only the failed executions.
          status = await fullStatus(client, outcome, json ? 'all' : 'failed');
        } catch (err) {
          if (err instanceof PageError) return reportApiError('apply', err.error, io, json);
          throw err;
        }
        if (json) io.stdout(`${JSON.stringify({ apply: result, status }, null, 2)}\n`);
        else io.stdout(`\n${formatStatus(status)}`);
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

/** $CAMPAIGN_ACTOR, else the operating system's user name. */
export function actorOf(env: NodeJS.ProcessEnv): string {
  const fromEnv = env['CAMPAIGN_ACTOR']?.trim();
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    throw new CliFailure('cannot tell who applies: set CAMPAIGN_ACTOR', 2);
  }
}

/**
 * Polls `get` (the summary: its size does not grow with the campaign) until this application's
 * status is `complete` or `needs-attention` (which a stage that cannot go on reaches at once),
 * showing the counts on stderr: one line rewritten in place on a terminal, a new line per change
 * otherwise.
 */
async function waitForOutcome(
  client: SpecServiceClient,
  applied: ApplyResult,
  io: CliIo,
): Promise<CampaignStatus> {
  const every = envMs(io.env, 'CAMPAIGN_POLL_INTERVAL_MS', POLL_INTERVAL_MS);
  const request: GetRequest = { campaign: applied.campaign };
  let shown = '';
  const outcome = await pollUntil(
    async () => {
      const reply = await client.request<CampaignStatus>('get', request);
      if (!reply.ok && reply.error.code !== 'not-found') {
        if (io.stderrIsTTY && shown !== '') io.stderr('\n');
        throw new CliFailure(`cannot follow ${applied.campaign}: ${reply.error.message}`, 1);
      }
      // Until spec-service's read model has caught up with this application, keep waiting.
      const status = reply.ok && reply.applyId === applied.applyId ? stripOk(reply) : undefined;
      const line =
        status === undefined
          ? `${applied.campaign}: waiting for spec-service`
          : formatProgress(status);
      if (line !== shown) {
        io.stderr(io.stderrIsTTY ? `\r\x1b[2K${line}` : `${line}\n`);
        shown = line;
      }
      if (
        status !== undefined &&
        (status.phase === 'complete' || status.phase === 'needs-attention')
      ) {
        if (io.stderrIsTTY) io.stderr('\n');
        return status;
      }
      return undefined;
    },
    { intervalMs: every },
  );
  // Without a signal, polling ends only with an outcome.
  return outcome!;
}

function stripOk(reply: { ok: true } & CampaignStatus): CampaignStatus {
  const { ok: _ok, ...status } = reply;
  return status;
}
