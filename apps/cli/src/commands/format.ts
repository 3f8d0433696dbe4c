import {
  CHANGESET_STATES,
  countedChangesetState,
  PREVIEW_ACTIONS,
  UNCOUNTED_CHANGESET_STATES,
  type CampaignCounts,
  type ChangesetState,
  type CampaignStatus,
  type CampaignSummary,
  type ChangesetStatus,
  type ExecutionStatus,
  type FullCampaignStatus,
  type PreviewResult,
} from '@campaigns/contracts';

const NONE = '-';
const MAX_CELL = 100;

/**
 * How a table is shown. On a terminal, long cells are cut at 100 characters and the widest
 * columns shrink until a row fits `columns` (`wide` keeps them whole); piped, nothing is cut.
 * Columns that carry errors or reasons are never cut: the terminal wraps them. `colour` styles
 * states and phases.
 */
export interface TableView {
  tty: boolean;
  colour: boolean;
  wide: boolean;
  /** The terminal's width; unknown, only the 100-character cut applies. */
  columns?: number;
}

/** A table as written to a file or a pipe: nothing cut, no colour. */
export const PIPED: TableView = { tty: false, colour: false, wide: false };

/** Columns whose cells are never cut: the end of an error is often what says what to do. */
const UNCUT = new Set(['LAST ERROR', 'MESSAGE', 'STDERR', 'REASONS', 'PROBLEM']);

/** ANSI SGR codes: on, off. Whether to colour at all is decided by the caller (TableView). */
const SGR = {
  green: [32, 39],
  yellow: [33, 39],
  red: [31, 39],
  magenta: [35, 39],
  dim: [2, 22],
} as const;
type Style = keyof typeof SGR;

/** The colour of a state, phase or action word; none for the rest. */
const STYLES: Record<string, Style> = {
  complete: 'green',
  open: 'green',
  merged: 'magenta',
  published: 'green',
  create: 'green',
  succeeded: 'green',
  running: 'yellow',
  queued: 'yellow',
  reconciling: 'yellow',
  executing: 'yellow',
  update: 'yellow',
  pending: 'yellow',
  scheduled: 'yellow',
  draft: 'yellow',
  'needs-attention': 'red',
  failed: 'red',
  errored: 'red',
  close: 'red',
  closed: 'dim',
  'no-changes': 'dim',
};

/** `word` in its colour when the view has colour. */
export function paint(view: TableView, word: string): string {
  const style = STYLES[word];
  if (!view.colour || !style) return word;
  const [on, off] = SGR[style];
  return `\x1b[${on}m${word}\x1b[${off}m`;
}

/** A plain-text table: columns aligned by two spaces, the last column never padded. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  view: TableView = PIPED,
): string {
  const cut = headers.map((h) => view.tty && !view.wide && !UNCUT.has(h));
  const whole = [headers, ...rows].map((row) => row.map((value, i) => cell(value, cut[i]!)));
  const natural = headers.map((_, i) => Math.max(...whole.map((row) => (row[i] ?? '').length)));
  const widths =
    view.tty && !view.wide && view.columns !== undefined
      ? fitWidths(natural, headers, cut, view.columns)
      : natural;
  const cells = whole.map((row) => row.map((value, i) => ellipsis(value, widths[i]!)));
  return cells
    .map((row, r) =>
      row
        .map((value, i) => {
          const padded = i === row.length - 1 ? value : value.padEnd(widths[i]!);
          // Styled after padding: the escape codes take no columns.
          return r === 0 ? padded : padded.replace(value, paint(view, value));
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** A shrunk column keeps at least its header, and this many characters. */
const MIN_SHRUNK = 12;

/**
 * Column widths that fit `columns` (two spaces between columns): the widest cuttable column loses
 * a character at a time, down to its header or MIN_SHRUNK. Short columns (states, counts) are
 * never the widest, so URLs and names give way first; what still does not fit wraps.
 */
function fitWidths(
  natural: readonly number[],
  headers: readonly string[],
  cut: readonly boolean[],
  columns: number,
): number[] {
  const widths = [...natural];
  const floor = headers.map((h, i) => Math.min(natural[i]!, Math.max(h.length, MIN_SHRUNK)));
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > columns) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++)
      if (cut[i] && widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!))
        widest = i;
    if (widest < 0) break;
    widths[widest]! -= 1;
  }
  return widths;
}

/** One line (at most MAX_CELL characters when `cut`); empty values show as `-`. */
function cell(value: string, cut: boolean): string {
  return ellipsis(value.replace(/\s*\n\s*/g, ' ').trim() || NONE, cut ? MAX_CELL : Infinity);
}

/** `text` in at most `width` characters, its cut marked with an ellipsis. */
function ellipsis(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The workspaces' and changesets' counts in one line, each part adding up to its total:
 * `3 workspaces: 3 executed, 1 failed, 1 with no changes; 8 changesets: 5 open, 2 merged,
 * 1 scheduled; not counted: 1 archived; 1 errored`. Changesets no longer part of the campaign
 * (removed, archived, detached) are counted apart; errored ones are in any state.
 */
export function formatCounts(c: CampaignCounts): string {
  const workspaces =
    `${plural(c.workspaces, 'workspace')}: ${c.executed} executed, ${c.failed} failed` +
    (c.noChanges > 0 ? `, ${c.noChanges} with no changes` : '');
  const counted = stateCounts(c, CHANGESET_STATES.filter(countedChangesetState));
  const apart = stateCounts(c, UNCOUNTED_CHANGESET_STATES);
  return [
    workspaces,
    plural(c.changesets, 'changeset') + (counted === '' ? '' : `: ${counted}`),
    ...(apart === '' ? [] : [`not counted: ${apart}`]),
    ...(c.errored > 0 ? [`${c.errored} errored`] : []),
  ].join('; ');
}

/** `5 open, 2 merged`: the states' counts, those with none left out. */
function stateCounts(c: CampaignCounts, states: readonly ChangesetState[]): string {
  return states
    .filter((s) => c.states[s] > 0)
    .map((s) => `${c.states[s]} ${s}`)
    .join(', ');
}

/** The counts of a status in one line, as `--wait` shows them while it waits. */
export function formatProgress(status: CampaignStatus): string {
  return `${status.campaign}: ${status.phase} — ${formatCounts(status.counts)}`;
}

/** `campaign status`: a header with the phase and counts, the changesets, and what failed. */
export function formatStatus(status: FullCampaignStatus, view: TableView = PIPED): string {
  const out = [
    `Campaign ${status.campaign}: ${paint(view, status.phase)}`,
    `Applied ${status.appliedAt} by ${status.actor} (apply ${status.applyId})`,
    formatCounts(status.counts),
    '',
    '',
  ].join('\n');
  const parts = [out];
  if (status.changesets.length === 0) parts.push('No changesets.\n');
  else
    parts.push(
      renderTable(
        [
          'REPOSITORY',
          'BRANCH',
          ...(view.wide ? ['BASE'] : []),
          'STATE',
          'DRAFT',
          'CHECKS',
          'REVIEW',
          'PR URL',
          ...(view.wide ? ['TITLE', 'DIFF', 'CONVERGED', 'UPDATED'] : []),
          'LAST ERROR',
        ],
        status.changesets.map((cs) => changesetRow(cs, view.wide)),
        view,
      ),
    );
  // Wide shows every execution (the caller reads them all), the table only the failed ones.
  const shown = view.wide
    ? status.executions
    : status.executions.filter((e) => e.state === 'failed');
  if (shown.length > 0) {
    parts.push(view.wide ? `\nExecutions:\n` : `\nFailed executions:\n`);
    parts.push(
      renderTable(
        ['REPOSITORY', 'BRANCH', 'PATH', ...(view.wide ? ['STATE'] : []), 'MESSAGE', 'STDERR'],
        shown.map((e) => [
          e.repository,
          e.branch ?? '',
          e.path,
          ...(view.wide ? [e.state] : []),
          e.message ?? '',
          lastLine(e.stderrTail),
        ]),
        view,
      ),
    );
  }
  if (status.problems.length > 0) {
    parts.push(`\nProblems:\n`);
    parts.push(status.problems.map((p) => `  ${p.entry}: ${p.message}\n`).join(''));
  }
  return parts.join('');
}

function changesetRow(cs: ChangesetStatus, wide: boolean): string[] {
  const error =
    cs.lastError === null ? '' : cs.errorTerminal ? `${cs.lastError} (terminal)` : cs.lastError;
  return [
    cs.repository,
    cs.path === undefined ? cs.headBranch : `${cs.headBranch} (${cs.path})`,
    ...(wide ? [cs.baseBranch ?? ''] : []),
    cs.state,
    cs.draft ? 'yes' : 'no',
    cs.checks ?? '',
    cs.review ?? '',
    cs.url ?? scheduledFor(cs),
    ...(wide
      ? [cs.title ?? '', diffstat(cs.diffstat), cs.converged ? 'yes' : 'no', cs.updatedAt]
      : []),
    error,
  ];
}

/** `3 files +12 −4`, as `git diff --shortstat` would say; the lines only when counted. */
function diffstat(stat: ChangesetStatus['diffstat']): string {
  if (stat === undefined) return '';
  const files = plural(stat.files, 'file');
  return stat.added === undefined || stat.deleted === undefined
    ? files
    : `${files} +${stat.added} −${stat.deleted}`;
}

/** Where a scheduled changeset's URL will be: when it is expected to be published. */
function scheduledFor(cs: ChangesetStatus): string {
  if (cs.state !== 'scheduled') return '';
  if (cs.scheduledFor === undefined || cs.scheduledFor === null) return 'no slot within a week';
  return `expected ${utcMinute(cs.scheduledFor)}`;
}

/** An ISO 8601 moment in UTC to the minute: `2026-01-01 14:00 UTC`. */
export function utcMinute(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

/** The last line of a stderr tail that says something. */
export function lastLine(text: ExecutionStatus['stderrTail']): string {
  if (text === null) return '';
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  return lines.at(-1)?.trim() ?? '';
}

/** `campaign preview`: what applying would do to each repository. */
export function formatPreview(preview: PreviewResult, view: TableView = PIPED): string {
  const parts = [`Campaign ${preview.campaign}: ${previewCounts(preview.rows)}\n`];
  if (preview.rows.length > 0) {
    parts.push(
      renderTable(
        ['REPOSITORY', 'ACTION', 'REASONS'],
        preview.rows.map((r) => [
          r.headBranch === null ? r.repository : `${r.repository}@${r.headBranch}`,
          r.action,
          r.reasons.join('; '),
        ]),
        view,
      ),
    );
  }
  for (const r of preview.rows) {
    if (r.diff === undefined) continue;
    parts.push(`\nDiff of ${r.repository}@${r.headBranch ?? ''}:\n${r.diff.text}`);
    if (r.diff.truncated)
      parts.push(
        r.diff.text === ''
          ? '(not shown: the preview carries no more diffs)\n'
          : '(cut here: the rest is not shown)\n',
      );
  }
  if (preview.problems.length > 0) {
    parts.push(`\nProblems:\n`);
    parts.push(preview.problems.map((p) => `  ${p.entry}: ${p.message}\n`).join(''));
  }
  return parts.join('');
}

/**
 * How many rows of each action, e.g. `2 create, 1 push, 3 no-changes`, adding up to the rows
 * (a repository's rows are one per changeset, and one per repository without any).
 */
function previewCounts(rows: PreviewResult['rows']): string {
  if (rows.length === 0) return 'nothing matched';
  return PREVIEW_ACTIONS.map((a) => [a, rows.filter((r) => r.action === a).length] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${n} ${a}`)
    .join(', ');
}

/** `campaign list`: every campaign with its phase and changesets. */
export function formatList(
  list: { campaigns: readonly CampaignSummary[] },
  view: TableView = PIPED,
): string {
  if (list.campaigns.length === 0) return 'No campaigns.\n';
  return renderTable(
    ['CAMPAIGN', 'PHASE', 'CHANGESETS', 'OPEN', 'MERGED', 'APPLIED', 'BY'],
    list.campaigns.map((c) => [
      c.campaign,
      c.phase,
      String(c.changesets),
      String(c.open),
      String(c.merged),
      c.appliedAt,
      c.actor,
    ]),
    view,
  );
}
