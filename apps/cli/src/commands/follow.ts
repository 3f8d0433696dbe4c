import { createLogUpdate } from 'log-update';
import { pollUntil } from '@campaigns/events';
import {
  MAX_PAGE_ROWS,
  type CampaignStatus,
  type ChangesetsPage,
  type ChangesetsRequest,
  type GetRequest,
} from '@campaigns/contracts';
import { UsageError, type CliIo, type Terminal } from '../command.js';
import { envMs } from './api-reply.js';
import { formatProgress } from './format.js';
import { isStructured, parseDuration, type OutputFormat } from './options.js';
import {
  estimateLeftMs,
  nextSlot,
  progressFrame,
  progressSample,
  SPINNER,
  type ProgressSample,
} from './progress.js';
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
 * reaches at once), showing its progress on stderr: a live region on a terminal unless `format`
 * is data, a new line per change of the counts otherwise. Stops early on Ctrl-C (`io.interrupt`)
 * or after `timeoutMs`.
 */
export async function followApplication(
  client: SpecServiceClient,
  applied: { campaign: string; applyId: string },
  io: CliIo,
  options: { timeoutMs?: number; format: OutputFormat },
): Promise<FollowResult> {
  const every = envMs(io.env, 'CAMPAIGN_POLL_INTERVAL_MS', POLL_INTERVAL_MS);
  const request: GetRequest = { campaign: applied.campaign };
  const stop = new AbortController();
  const { timeoutMs } = options;
  const terminal = liveProgressWanted(io, options.format) ? io.stderrTerminal : undefined;
  const live = terminal !== undefined;
  const display = live
    ? new LiveProgress(terminal, applied.campaign, colourOnStderr(io))
    : new ProgressLines(applied.campaign, io);
  const slots = new SlotWatch(client, applied.campaign);

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
      if (!reply.ok && reply.error.code !== 'not-found')
        throw new CliFailure(`cannot follow ${applied.campaign}: ${reply.error.message}`, 1);
      // Until spec-service's read model has caught up with this application, keep waiting.
      const status = reply.ok && reply.applyId === applied.applyId ? stripOk(reply) : undefined;
      display.show(status, live && status !== undefined ? await slots.next(status) : undefined);
      if (
        status !== undefined &&
        (status.phase === 'complete' ||
          status.phase === 'needs-attention' ||
          status.phase === 'closed')
      )
        return { outcome: status } satisfies FollowResult;
      return undefined;
    },
    { intervalMs: every, signal: stop.signal },
  );
  // Once stopped, a request still in flight fails when the connection closes: nobody waits for it.
  polled.catch(() => undefined);
  let result: FollowResult | undefined;
  try {
    result = (await Promise.race([polled, stopped])) ?? { stopped: 'interrupted' };
    return result;
  } finally {
    stop.abort();
    display.end(result);
  }
}

/** How often the live region asks when the next scheduled changeset is due, while there are any. */
const SLOT_EVERY_MS = 30_000;

/**
 * When the next scheduled changeset is expected to be published: one page of the scheduled
 * changesets, asked when they first appear and again every SLOT_EVERY_MS (not every poll: a page
 * is far larger than the summary). None when they do not fit one page.
 */
class SlotWatch {
  private askedAtMs = -Infinity;
  private slot: string | undefined;

  constructor(
    private readonly client: SpecServiceClient,
    private readonly campaign: string,
  ) {}

  async next(status: CampaignStatus): Promise<string | undefined> {
    if (status.counts.states.scheduled === 0) {
      this.askedAtMs = -Infinity;
      return (this.slot = undefined);
    }
    if (Date.now() - this.askedAtMs < SLOT_EVERY_MS) return this.slot;
    this.askedAtMs = Date.now();
    const request: ChangesetsRequest = {
      campaign: this.campaign,
      match: { state: 'scheduled' },
      limit: MAX_PAGE_ROWS,
    };
    const page = await this.client.request<ChangesetsPage>('changesets', request);
    this.slot = page.ok ? nextSlot(page) : undefined;
    return this.slot;
  }
}

/** Whether `--wait` shows the live region: on a terminal that can redraw, for people, not data. */
function liveProgressWanted(io: CliIo, format: OutputFormat): boolean {
  return io.stderrIsTTY === true && io.env['TERM'] !== 'dumb' && !isStructured(format);
}

/** Colour on stderr's terminal unless NO_COLOR is set to anything non-empty. */
function colourOnStderr(io: CliIo): boolean {
  const noColor = io.env['NO_COLOR'];
  return io.stderrIsTTY === true && (noColor === undefined || noColor === '');
}

/** How following shows its progress: each status seen, then how it ended (none: an error). */
interface ProgressDisplay {
  show(status: CampaignStatus | undefined, slot?: string): void;
  end(result: FollowResult | undefined): void;
}

/** Not on a terminal: the counts in one line, a new line each time they change; no escapes. */
class ProgressLines implements ProgressDisplay {
  private shown = '';

  constructor(
    private readonly campaign: string,
    private readonly io: CliIo,
  ) {}

  show(status: CampaignStatus | undefined): void {
    const line =
      status === undefined ? `${this.campaign}: waiting for spec-service` : formatProgress(status);
    if (line !== this.shown) this.io.stderr(`${line}\n`);
    this.shown = line;
  }

  end(): void {}
}

/** How often the spinner turns and the elapsed time is redrawn, between polls. */
const TICK_MS = 120;

/**
 * On a terminal: a region redrawn in place by log-update (every line fitted to the width, so none
 * wraps and leaves a copy behind), finished with a mark saying how it ended and left on screen.
 */
class LiveProgress implements ProgressDisplay {
  private readonly render: ReturnType<typeof createLogUpdate>;
  private readonly startedMs = Date.now();
  private readonly timer: NodeJS.Timeout;
  private frame = 0;
  private status: CampaignStatus | undefined;
  private first: ProgressSample | undefined;
  private latest: ProgressSample | undefined;
  private slot: string | undefined;

  constructor(
    private readonly terminal: Terminal,
    private readonly campaign: string,
    private readonly colour: boolean,
  ) {
    // log-update only writes to the stream and reads its size and isTTY.
    this.render = createLogUpdate(terminal as NodeJS.WritableStream);
    this.timer = setInterval(() => this.draw(SPINNER[++this.frame % SPINNER.length]!), TICK_MS);
    this.timer.unref();
    this.draw(SPINNER[0]);
  }

  show(status: CampaignStatus | undefined, slot?: string): void {
    this.status = status;
    this.slot = slot;
    const sample = status === undefined ? undefined : progressSample(status, Date.now());
    // The rate is measured over one kind of work: a new kind starts a new measurement.
    if (sample === undefined || this.first?.work !== sample.work) this.first = sample;
    this.latest = sample;
    this.draw(SPINNER[this.frame % SPINNER.length]!);
  }

  end(result: FollowResult | undefined): void {
    clearInterval(this.timer);
    this.draw(endMark(result));
    this.render.done();
  }

  private draw(mark: string): void {
    const leftMs = estimateLeftMs(this.first, this.latest);
    this.render(
      progressFrame({
        campaign: this.campaign,
        status: this.status,
        elapsedMs: Date.now() - this.startedMs,
        mark,
        leftMs,
        work: this.latest?.work,
        slot: this.slot,
        columns: this.terminal.columns ?? 80,
        colour: this.colour,
      }),
    );
  }
}

/** The mark of the last frame: complete, needs attention (or an error), or stopped waiting. */
function endMark(result: FollowResult | undefined): string {
  if (result === undefined) return '✖';
  if ('stopped' in result) return '■';
  return result.outcome.phase === 'complete' ? '✔' : result.outcome.phase === 'closed' ? '■' : '✖';
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
