import { pollUntil } from '@campaigns/events';
import type { CampaignStatus, GetRequest } from '@campaigns/contracts';
import { UsageError, type CliIo } from '../command.js';
import { envMs } from './api-reply.js';
import { formatProgress } from './format.js';
import { parseDuration } from './options.js';
import { CliFailure, type SpecServiceClient } from './spec-service-client.js';

const POLL_INTERVAL_MS = 500;

/** `--wait` and `--timeout DURATION`, shared by apply and status. */
export const WAIT_OPTIONS = {
  wait: 'follow the apply until the campaign is complete (exit 0) or needs attention (exit 3)',
  timeout: 'with --wait: stop waiting after DURATION (30s, 5m, 1h30m; a bare number is seconds)',
};

/** The `--timeout` in milliseconds, which only makes sense with `--wait`. */
export function timeoutOf(options: Record<string, unknown>): number | undefined {
  const raw = options['timeout'] as string | undefined;
  if (raw === undefined) return undefined;
  if (options['wait'] !== true) throw new UsageError('--timeout needs --wait');
  return parseDuration('--timeout', raw);
}

/** How following an application ended: its outcome, or why it stopped before one. */
export type FollowResult =
  | { outcome: CampaignStatus }
  | { stopped: 'interrupted' }
  | { stopped: 'timeout'; afterMs: number };

/**
 * Polls `get` (the summary: its size does not grow with the campaign) until the application
 * `applyId` of `campaign` is `complete` or `needs-attention` (which a stage that cannot go on
 * reaches at once), showing the counts on stderr: one line rewritten in place on a terminal, a
 * new line per change otherwise. Stops early on Ctrl-C (`io.interrupt`) or after `timeoutMs`.
 */
export async function followApplication(
  client: SpecServiceClient,
  applied: { campaign: string; applyId: string },
  io: CliIo,
  timeoutMs?: number,
): Promise<FollowResult> {
  const every = envMs(io.env, 'CAMPAIGN_POLL_INTERVAL_MS', POLL_INTERVAL_MS);
  const request: GetRequest = { campaign: applied.campaign };
  const stop = new AbortController();
  let shown = '';
  const endLine = () => {
    if (io.stderrIsTTY && shown !== '') io.stderr('\n');
    shown = '';
  };

  const stopped = new Promise<FollowResult>((resolve) => {
    const interrupted = () => resolve({ stopped: 'interrupted' });
    if (io.interrupt?.aborted) interrupted();
    io.interrupt?.addEventListener('abort', interrupted, { once: true, signal: stop.signal });
    if (timeoutMs !== undefined) {
      const timer = setTimeout(
        () => resolve({ stopped: 'timeout', afterMs: timeoutMs }),
        timeoutMs,
      );
      stop.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }
  });

  const polled = pollUntil(
    async () => {
      const reply = await client.request<CampaignStatus>('get', request);
      if (stop.signal.aborted) return undefined;
      if (!reply.ok && reply.error.code !== 'not-found') {
        endLine();
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
        (status.phase === 'complete' ||
          status.phase === 'needs-attention' ||
          status.phase === 'closed')
      ) {
        endLine();
        return { outcome: status } satisfies FollowResult;
      }
      return undefined;
    },
    { intervalMs: every, signal: stop.signal },
  );
  // Once stopped, a request still in flight fails when the connection closes: nobody waits for it.
  polled.catch(() => undefined);
  try {
    const result = await Promise.race([polled, stopped]);
    if (result === undefined || 'stopped' in result) endLine();
    return result ?? { stopped: 'interrupted' };
  } finally {
    stop.abort();
  }
}

/** The one line said when waiting stops early: the application goes on; how to follow it. */
export function stoppedWaitingLine(
  campaign: string,
  result: Exclude<FollowResult, { outcome: CampaignStatus }>,
): string {
  const why =
    result.stopped === 'interrupted'
      ? 'stopped waiting'
      : `not complete after ${formatDuration(result.afterMs)}`;
  return `campaign: ${campaign}: ${why}; the apply continues on the server. Follow it with: campaign status ${campaign} --wait`;
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function stripOk(reply: { ok: true } & CampaignStatus): CampaignStatus {
  const { ok: _ok, ...status } = reply;
  return status;
}
