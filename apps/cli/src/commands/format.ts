import type {
  CampaignStatus,
  CampaignSummary,
  ChangesetStatus,
  ExecutionStatus,
  FullCampaignStatus,
  PreviewResult,
} from '@campaigns/contracts';

const NONE = '-';
const MAX_CELL = 100;

/** A plain-text table: columns aligned by two spaces, the last column never padded. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const cells = [headers, ...rows].map((row) => row.map(cell));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((value, i) => (i === row.length - 1 ? value : value.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** One line, at most MAX_CELL characters; empty values show as `-`. */
function cell(value: string): string {
  const line = value.replace(/\s*\n\s*/g, ' ').trim();
  if (line === '') return NONE;
  return line.length > MAX_CELL ? `${line.slice(0, MAX_CELL - 1)}…` : line;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The counts of a status in one line, as `--wait` shows them while it waits. */
export function formatProgress(status: CampaignStatus): string {
  const c = status.counts;
  return (
    `${status.campaign}: ${status.phase} — executed ${c.executed}/${c.workspaces}, ` +
    `failed ${c.failed}, published ${c.published}/${c.changesets}, errored ${c.errored}`
  );
}

/** `campaign status`: a header with the phase and counts, the changesets, and what failed. */
export function formatStatus(status: FullCampaignStatus): string {
  const c = status.counts;
  const out = [
    `Campaign ${status.campaign}: ${status.phase}`,
    `Applied ${status.appliedAt} by ${status.actor} (apply ${status.applyId})`,
    `${plural(c.workspaces, 'workspace')}: ${c.executed} executed, ${c.failed} failed; ` +
      `${plural(c.changesets, 'changeset')}: ${c.published} published, ${c.errored} errored`,
    '',
    '',
  ].join('\n');
  const parts = [out];
  if (status.changesets.length === 0) parts.push('No changesets.\n');
  else
    parts.push(
      renderTable(
        ['REPOSITORY', 'BRANCH', 'STATE', 'DRAFT', 'CHECKS', 'REVIEW', 'PR URL', 'LAST ERROR'],
        status.changesets.map(changesetRow),
      ),
    );
  const failed = status.executions.filter((e) => e.state === 'failed');
  if (failed.length > 0) {
    parts.push(`\nFailed executions:\n`);
    parts.push(
      renderTable(
        ['REPOSITORY', 'BRANCH', 'PATH', 'MESSAGE', 'STDERR'],
        failed.map((e) => [
          e.repository,
          e.branch ?? '',
          e.path,
          e.message ?? '',
          lastLine(e.stderrTail),
        ]),
      ),
    );
  }
  if (status.problems.length > 0) {
    parts.push(`\nProblems:\n`);
    parts.push(status.problems.map((p) => `  ${p.entry}: ${p.message}\n`).join(''));
  }
  return parts.join('');
}

function changesetRow(cs: ChangesetStatus): string[] {
  const error =
    cs.lastError === null ? '' : cs.errorTerminal ? `${cs.lastError} (terminal)` : cs.lastError;
  return [
    cs.repository,
    cs.path === undefined ? cs.headBranch : `${cs.headBranch} (${cs.path})`,
    cs.state,
    cs.draft ? 'yes' : 'no',
    cs.checks ?? '',
    cs.review ?? '',
    cs.url ?? '',
    error,
  ];
}

/** The last line of a stderr tail that says something. */
export function lastLine(text: ExecutionStatus['stderrTail']): string {
  if (text === null) return '';
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  return lines.at(-1)?.trim() ?? '';
}

/** `campaign preview`: what applying would do to each repository. */
export function formatPreview(preview: PreviewResult): string {
  const parts = [`Campaign ${preview.campaign}: ${plural(preview.rows.length, 'changeset')}\n`];
  if (preview.rows.length > 0) {
    parts.push(
      renderTable(
        ['REPOSITORY', 'ACTION', 'REASONS'],
        preview.rows.map((r) => [
          r.headBranch === null ? r.repository : `${r.repository}@${r.headBranch}`,
          r.action,
          r.reasons.join('; '),
        ]),
      ),
    );
  }
  if (preview.problems.length > 0) {
    parts.push(`\nProblems:\n`);
    parts.push(preview.problems.map((p) => `  ${p.entry}: ${p.message}\n`).join(''));
  }
  return parts.join('');
}

/** `campaign list`: every campaign with its phase and changesets. */
export function formatList(list: { campaigns: readonly CampaignSummary[] }): string {
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
  );
}
