import type { CampaignPhase, CampaignStatus, ChangesetsPage } from '@campaigns/contracts';
import { formatCounts, paint, utcMinute, type TableView } from './format.js';

/**
 * The live progress region of `--wait` on a terminal, decided here from status snapshots and
 * rendered by log-update (see follow.ts): a spinner, the elapsed time, the counts, what the
 * application is waiting on and, once there is a rate, an estimate of what is left.
 */

/** The spinner's frames, one per tick. */
export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;

/** How many workspaces or changesets are done and how many are left, at a moment. */
export interface ProgressSample {
  atMs: number;
  /** Which kind of work: an estimate only compares samples of the same kind. */
  work: 'executions' | 'publishing';
  done: number;
  left: number;
}

/**
 * What the current phase is working through, counted: the executions still to finish while
 * executing, the changesets still to be published while reconciling. None when there is nothing
 * countable to wait for (a slot to come, a phase that has ended).
 */
export function progressSample(status: CampaignStatus, atMs: number): ProgressSample | undefined {
  const c = status.counts;
  if (status.phase === 'executing' && c.workspaces > 0)
    return { atMs, work: 'executions', done: c.executed, left: c.workspaces - c.executed };
  // A scheduled changeset waits for its slot, not for a rate: no estimate while there are any.
  if (status.phase === 'reconciling' && c.states.scheduled === 0 && c.states.pending > 0)
    return {
      atMs,
      work: 'publishing',
      done: c.changesets - c.states.pending,
      left: c.states.pending,
    };
  return undefined;
}

/**
 * How long the work left should take at the rate seen from `first` to `latest`: none without a
 * rate (nothing finished between them yet, a different kind of work) or with nothing left.
 */
export function estimateLeftMs(
  first: ProgressSample | undefined,
  latest: ProgressSample | undefined,
): number | undefined {
  if (first === undefined || latest === undefined || first.work !== latest.work) return undefined;
  const finished = latest.done - first.done;
  const tookMs = latest.atMs - first.atMs;
  if (finished <= 0 || tookMs <= 0 || latest.left <= 0) return undefined;
  return (latest.left * tookMs) / finished;
}

/**
 * The earliest moment a scheduled changeset of `page` is expected to be published, when the page
 * holds every scheduled changeset (it has no `next`); none otherwise, or when none has a slot.
 */
export function nextSlot(page: ChangesetsPage): string | undefined {
  if (page.next !== null) return undefined;
  const slots = page.changesets
    .map((c) => c.scheduledFor)
    .filter((at): at is string => typeof at === 'string' && at !== '');
  return slots.sort((a, b) => Date.parse(a) - Date.parse(b))[0];
}

/**
 * What the application is waiting on, from the summary: executions still running, changesets to
 * publish or waiting for their slot (the next one, when known: see nextSlot), errored ones the
 * reconciler retries.
 */
export function waitingOn(status: CampaignStatus, slot?: string): string[] {
  const c = status.counts;
  const parts: string[] = [];
  if (status.phase === 'executing') {
    if (c.workspaces === 0) parts.push('resolving repositories');
    else if (c.executed < c.workspaces)
      parts.push(`${count(c.workspaces - c.executed, 'execution')} running`);
  }
  if (c.states.pending > 0) parts.push(`${count(c.states.pending, 'changeset')} to publish`);
  if (c.states.scheduled > 0)
    parts.push(
      `${count(c.states.scheduled, 'changeset')} scheduled` +
        (slot === undefined ? ' for a rollout slot' : `, the next at ${utcMinute(slot)}`),
    );
  if (c.errored > 0) parts.push(`${count(c.errored, 'errored changeset')} being retried`);
  if (parts.length === 0) parts.push(IDLE[status.phase]);
  return parts;
}

const IDLE: Record<CampaignPhase, string> = {
  executing: 'the executor',
  reconciling: 'changesets to converge',
  complete: 'nothing',
  'needs-attention': 'you: the campaign needs attention',
  closed: 'nothing: the campaign is closed',
};

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `45s`, `3m05s`, `1h02m`: short enough for a status line, exact enough to watch. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** An estimate, rounded up as it is not exact: `~20s`, `~4m`, `~2h10m`. */
export function formatEstimate(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `~${Math.max(1, Math.ceil(s / 5) * 5)}s`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `~${m}m`;
  return `~${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Everything one frame shows. `status` is absent until spec-service knows the application. */
export interface FrameInput {
  campaign: string;
  status?: CampaignStatus;
  elapsedMs: number;
  /** The spinner's frame, or the mark of a final frame (`✔`, `✖`, `■`). */
  mark: string;
  /** From estimateLeftMs. */
  leftMs?: number;
  /** The work the estimate is about. */
  work?: ProgressSample['work'];
  /** When the next scheduled changeset is expected to be published (from nextSlot). */
  slot?: string;
  /** The terminal's width: no line is longer than `columns - 1`, so none wraps. */
  columns: number;
  colour: boolean;
}

/**
 * One frame of the region: the mark, campaign, phase and elapsed time; the counts, packed into as
 * few lines as fit; what it waits on and the estimate. Lines that cannot fit are cut with `…`.
 */
export function progressFrame(input: FrameInput): string {
  const width = Math.max(20, input.columns - 1);
  const { status } = input;
  const phase = status?.phase ?? 'waiting for spec-service';
  const estimate =
    input.leftMs === undefined ? '' : ` · ${input.work} ${formatEstimate(input.leftMs)} left`;
  const after = `${phase} · ${formatElapsed(input.elapsedMs)}${estimate}`;
  // The campaign's name gives way first: the phase and the times are what change.
  const name = cut(input.campaign, width - input.mark.length - 3 - after.length);
  const head = cut(`${input.mark} ${name}: ${after}`, width);
  if (status === undefined) return head;
  const view: TableView = { tty: true, colour: input.colour, wide: false };
  const at = head.lastIndexOf(phase);
  const lines = [
    at < 0 ? head : `${head.slice(0, at)}${paint(view, phase)}${head.slice(at + phase.length)}`,
    ...packParts(formatCounts(status.counts).split('; '), width - 2, '; '),
  ];
  if (status.phase === 'executing' || status.phase === 'reconciling') {
    const [first, ...rest] = waitingOn(status, input.slot);
    lines.push(...packParts([`waiting on: ${first}`, ...rest], width - 2, ', '));
  }
  return lines.map((line, i) => (i === 0 ? line : `  ${line}`)).join('\n');
}

/**
 * Parts joined by `separator` into lines of at most `width` characters: a part starts a new line
 * rather than being split, and one longer than a line is cut.
 */
export function packParts(parts: readonly string[], width: number, separator: string): string[] {
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + separator.length + part.length <= width)
      lines[last] += `${separator}${part}`;
    else lines.push(cut(part, width));
  }
  return lines;
}

/** `text` in at most `width` characters (at least one), its cut marked with `…`. */
function cut(text: string, width: number): string {
  const room = Math.max(1, width);
  return text.length > room ? `${text.slice(0, room - 1)}…` : text;
}
