import type { PreviewResult, Problem } from '@campaigns/contracts';
import { EXIT, type Command } from '../command.js';
import { reportApiError } from './api-reply.js';
import { renderTable, type TableView } from './format.js';
import { COLOUR_ENV, NATS_ENV, NATS_EXIT_CODES } from './help-text.js';
import { requestPreview } from './preview.command.js';
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

/** What `campaign repos` reports: the repositories `on:` matches now, from a preview. */
export interface MatchedRepositories {
  campaign: string;
  /** Each matched repository with the head branches of the changesets it has already. */
  repositories: { repository: string; changesets: string[] }[];
  /** Repositories with changesets of this campaign that `on:` no longer matches. */
  noLongerMatched: string[];
  problems: Problem[];
}

/**
 * The repositories of a preview. A row is a repository `on:` matches unless its only rows close
 * changesets: those are the repositories no longer matched.
 */
export function matchedRepositories(preview: PreviewResult): MatchedRepositories {
  const byRepository = new Map<string, { changesets: string[]; matched: boolean }>();
  for (const row of preview.rows) {
    const entry = byRepository.get(row.repository) ?? { changesets: [], matched: false };
    if (row.headBranch !== null) entry.changesets.push(row.headBranch);
    // A changeset closed because the branch changed comes with a create row for the new branch.
    if (row.action !== 'close') entry.matched = true;
    byRepository.set(row.repository, entry);
  }
  const all = [...byRepository.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    campaign: preview.campaign,
    repositories: all
      .filter(([, e]) => e.matched)
      .map(([repository, e]) => ({ repository, changesets: e.changesets })),
    noLongerMatched: all.filter(([, e]) => !e.matched).map(([repository]) => repository),
    problems: preview.problems,
  };
}

export function formatRepositories(matched: MatchedRepositories, view: TableView): string {
  const n = matched.repositories.length;
  const parts = [
    `Campaign ${matched.campaign}: ${n} ${n === 1 ? 'repository matches' : 'repositories match'}\n`,
  ];
  if (n > 0)
    parts.push(
      renderTable(
        ['REPOSITORY', 'CHANGESETS'],
        matched.repositories.map((r) => [r.repository, r.changesets.join(', ')]),
        view,
      ),
    );
  if (matched.noLongerMatched.length > 0) {
    parts.push(`\nNo longer matched (applying closes or removes their changesets):\n`);
    parts.push(matched.noLongerMatched.map((r) => `  ${r}\n`).join(''));
  }
  if (matched.problems.length > 0) {
    parts.push(`\nProblems:\n`);
    parts.push(matched.problems.map((p) => `  ${p.entry}: ${p.message}\n`).join(''));
  }
  return parts.join('');
}

export const reposCommand: Command = {
  name: 'repos',
  summary: 'List the repositories a campaign spec matches, without applying it',
  usage: 'campaign repos -f FILE [-o json|yaml|wide]',
  configure(command) {
    addFileOption(command, 'repos');
    addOutputOptions(command, ['json', 'yaml', 'wide']);
  },
  help: {
    env: [...NATS_ENV, ...COLOUR_ENV],
    examples: [
      [
        'campaign repos -f hello.campaign.yaml',
        'the repositories "on:" matches now, with the changesets they have; nothing is recorded',
      ],
      ['campaign repos -f hello.campaign.yaml -o json', 'the same as JSON'],
    ],
    exitCodes: NATS_EXIT_CODES,
  },
  async run({ options }, io) {
    const file = specFileOf('repos', options);
    const format = outputOf(options);
    const specText = await readSpecText('repos', file, io.stdin);
    // spec-service resolves "on:" for a preview; its rows name each matched repository.
    const preview = await requestPreview(io, { fileName: specDisplayName(file), specText });
    if ('error' in preview) return reportApiError('repos', preview.error, io, format);
    for (const warning of preview.warnings) io.stderr(`${warning}\n`);
    const matched = matchedRepositories(preview);
    if (isStructured(format)) printData(io, format, matched);
    else io.stdout(formatRepositories(matched, tableView(io, format)));
    return EXIT.ok;
  },
};
