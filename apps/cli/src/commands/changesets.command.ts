import { randomUUID } from 'node:crypto';
import {
  BULK_OPERATION_KINDS,
  type ApiReply,
  CHANGESET_STATES,
  CHECKS_MATCHES,
  MERGE_METHODS,
  REVIEW_MATCHES,
  type BulkChangesetResult,
  type BulkOperationKind,
  type BulkRequest,
  type BulkResult,
  type BulkResultsPage,
  type ChangesetMatch,
  type ChangesetsPage,
  type ChangesetStatus,
} from '@campaigns/contracts';
import { pollUntil } from '@campaigns/events';
import { Option } from 'commander';
import { EXIT, UsageError, type CliIo, type Command } from '../command.js';
import { envMs, reportApiError } from './api-reply.js';
import { renderTable, type TableView } from './format.js';
import { NATS_ENV } from './help-text.js';
import {
  addOutputOptions,
  isStructured,
  once,
  outputOf,
  parseDuration,
  tableView,
} from './options.js';
import { printData } from './output.js';
import {
  CliFailure,
  clientSettings,
  withSpecService,
  type SpecServiceClient,
} from './spec-service-client.js';
import { allPages, PageError } from './status-pages.js';

const POLL_INTERVAL_MS = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The match the filter options make (none given: every changeset). */
export function matchOf(options: Record<string, unknown>): ChangesetMatch {
  const match: ChangesetMatch = {};
  if (options['state'] !== undefined) match.state = options['state'] as ChangesetMatch['state'];
  if (options['checks'] !== undefined) match.checks = options['checks'] as ChangesetMatch['checks'];
  if (options['review'] !== undefined) match.review = options['review'] as ChangesetMatch['review'];
  if (options['repo'] !== undefined) {
    const glob = (options['repo'] as string).trim();
    if (glob === '') throw new UsageError('--repo needs a glob, e.g. "github.com/acme/*"');
    match.repository = glob;
  }
  return match;
}

/**
 * The bulk request the options ask for, or null without `--do`; an option that belongs to
 * another operation (or is missing) is a usage error, so nothing is sent.
 */
export function bulkRequestOf(
  campaign: string,
  options: Record<string, unknown>,
): BulkRequest | null {
  const operation = options['do'] as BulkOperationKind | undefined;
  const message = options['message'] as string | undefined;
  const method = options['method'] as BulkRequest['method'];
  const id = options['id'] as string | undefined;
  if (operation === undefined) {
    const stray = [
      message !== undefined && '-m',
      method !== undefined && '--method',
      id !== undefined && '--id',
      options['timeout'] !== undefined && '--timeout',
    ].filter((flag): flag is string => flag !== false);
    if (stray.length > 0) throw new UsageError(`${stray.join(', ')} only go with --do`);
    return null;
  }
  if (operation === 'comment' && (message === undefined || message.trim() === ''))
    throw new UsageError('--do comment needs the comment: -m TEXT');
  if (operation !== 'comment' && message !== undefined)
    throw new UsageError(`-m is the comment's text; --do ${operation} takes none`);
  if (operation !== 'merge' && method !== undefined)
    throw new UsageError(`--method is for --do merge, not --do ${operation}`);
  if (id !== undefined && !UUID.test(id))
    throw new UsageError(`--id needs a UUID, e.g. ${randomUUID()} (got "${id}")`);
  return {
    campaign,
    operationId: id?.toLowerCase() ?? randomUUID(),
    operation,
    ...(message === undefined ? {} : { message }),
    ...(method === undefined ? {} : { method }),
    match: matchOf(options),
  };
}

/** The listing: one row per matching changeset. */
export function formatChangesets(rows: readonly ChangesetStatus[], view: TableView): string {
  if (rows.length === 0) return 'No changesets match\n';
  return renderTable(
    ['REPOSITORY', 'BRANCH', 'STATE', 'CHECKS', 'REVIEW', 'PULL REQUEST'],
    rows.map((c) => [
      c.repository,
      c.headBranch,
      c.state,
      c.checks ?? '',
      c.review ?? '',
      c.url ?? '',
    ]),
    view,
  );
}

/** A bulk operation's outcome: a line of counts, then one row per changeset. */
export function formatBulkResults(outcome: Omit<BulkResultsPage, 'next'>, view: TableView): string {
  const { operation, campaign, operationId, changesets, done, skipped, failed } = outcome;
  const pending = changesets - done - skipped - failed;
  const head =
    `${operation} on ${changesets} changeset${changesets === 1 ? '' : 's'} of ${campaign} ` +
    `(operation ${operationId}): ${done} done, ${skipped} skipped, ${failed} failed` +
    (pending > 0 ? `, ${pending} pending` : '');
  if (outcome.results.length === 0) return `${head}\n`;
  const table = renderTable(
    ['REPOSITORY', 'PR', 'RESULT', 'MESSAGE'],
    outcome.results.map((r) => [
      r.repository,
      r.number === null ? '' : `#${r.number}`,
      r.result,
      r.message,
    ]),
    view,
  );
  return `${head}\n\n${table}`;
}

export const changesetsCommand: Command = {
  name: 'changesets',
  summary: "List a campaign's changesets that match; --do acts on all of them at once",
  usage:
    'campaign changesets NAME [--state STATE] [--checks passed|failed|pending]\n' +
    '       [--review approved|changes-requested|pending] [--repo GLOB]\n' +
    '       [--do comment|merge|close|publish|retry [-m TEXT] [--method merge|squash|rebase]\n' +
    '        [--id UUID] [--timeout DURATION]] [-o json|yaml]',
  configure(command) {
    command
      .argument('[NAME]', 'the campaign')
      .addOption(
        new Option('--state <STATE>', 'only changesets in this state').choices(CHANGESET_STATES),
      )
      .addOption(
        new Option('--checks <CHECKS>', 'only changesets whose checks are').choices(CHECKS_MATCHES),
      )
      .addOption(
        new Option('--review <REVIEW>', 'only changesets whose review is').choices(REVIEW_MATCHES),
      )
      .addOption(
        new Option(
          '--repo <GLOB>',
          'only repositories matching GLOB (* within a name part, ** across /)',
        ).argParser(once('--repo')),
      )
      .addOption(
        new Option('--do <OPERATION>', 'act on every matching changeset').choices(
          BULK_OPERATION_KINDS,
        ),
      )
      .addOption(
        new Option('-m, --message <TEXT>', 'with --do comment: the comment').argParser(once('-m')),
      )
      .addOption(
        new Option('--method <METHOD>', 'with --do merge: how (default merge)').choices(
          MERGE_METHODS,
        ),
      )
      .addOption(
        new Option(
          '--id <UUID>',
          'the operation id (default: a new one); the same id again does not act twice',
        ).argParser(once('--id')),
      )
      .option(
        '--timeout <DURATION>',
        'with --do: stop waiting for the results after DURATION (30s, 5m; a bare number is seconds)',
      );
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: [
      ...NATS_ENV,
      ['CAMPAIGN_POLL_INTERVAL_MS', 'how often --do asks for the results (default 500)'],
    ],
    examples: [
      ['campaign changesets hello-world --state open --checks failed', 'what --do would act on'],
      [
        'campaign changesets hello-world --state open --checks failed --do comment -m "Please rebase"',
        'comment on each of them once, and show each one’s result',
      ],
      [
        'campaign changesets hello-world --state open --checks passed --review approved --do merge --method squash',
        'merge what is green and approved',
      ],
      [
        'campaign changesets hello-world --repo "github.com/acme/legacy-*" --do close',
        'close them; they stay closed until their spec changes',
      ],
      ['campaign changesets hello-world --do retry', 'try again where the last reconcile failed'],
      [
        'campaign changesets hello-world --state unpublished --do publish',
        'publish changesets whose spec says published: false',
      ],
    ],
    exitCodes: [
      [0, 'success: listed, or every changeset done or skipped'],
      [1, 'spec-service answered with an error, a changeset failed, or --timeout passed'],
      [2, 'the command line is wrong, or NATS or spec-service cannot be reached'],
      [130, 'Ctrl-C while waiting (the operation goes on on the server)'],
    ],
  },
  async run({ options, args }, io) {
    const campaign = args[0];
    if (campaign === undefined || campaign === '')
      throw new UsageError('changesets needs the campaign name');
    const format = outputOf(options);
    const bulk = bulkRequestOf(campaign, options);
    const timeoutMs =
      options['timeout'] === undefined
        ? undefined
        : parseDuration('--timeout', options['timeout'] as string);
    const settings = clientSettings(io.env);
    settings.timeoutMs = envMs(io.env, 'CAMPAIGN_REQUEST_TIMEOUT_MS', settings.timeoutMs);
    return withSpecService(
      io.env,
      async (client) => {
        if (bulk === null) return list(client, campaign, matchOf(options), io, format);
        const reply = await client.request<BulkResult>('bulk', bulk);
        if (!reply.ok) return reportApiError('changesets', reply.error, io, format);
        io.stderr(
          `${reply.alreadyRequested ? 'Already requested' : 'Requested'}: ${bulk.operation} on ${reply.changesets} changesets of ${campaign} (operation ${reply.operationId})\n`,
        );
        const outcome = await follow(client, reply.operationId, io, timeoutMs);
        if ('stopped' in outcome) {
          io.stderr(
            `campaign: ${outcome.stopped === 'timeout' ? 'not finished in time' : 'stopped waiting'}; operation ${reply.operationId} goes on on the server. See its results with the same command and --id ${reply.operationId}\n`,
          );
          return outcome.stopped === 'interrupted' ? EXIT.interrupted : EXIT.failed;
        }
        if (isStructured(format)) printData(io, format, outcome.results);
        else io.stdout(formatBulkResults(outcome.results, tableView(io, format)));
        return outcome.results.failed > 0 ? EXIT.failed : EXIT.ok;
      },
      settings,
    );
  },
};

async function list(
  client: SpecServiceClient,
  campaign: string,
  match: ChangesetMatch,
  io: CliIo,
  format: ReturnType<typeof outputOf>,
): Promise<number> {
  try {
    const rows = await allPages<ChangesetsPage, ChangesetStatus>(
      client,
      'changesets',
      { campaign, match },
      (page) => page.changesets,
    );
    if (isStructured(format)) printData(io, format, { campaign, match, changesets: rows });
    else io.stdout(formatChangesets(rows, tableView(io, format)));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof PageError) return reportApiError('changesets', err.error, io, format);
    throw err;
  }
}

type Followed = { results: Omit<BulkResultsPage, 'next'> } | { stopped: 'interrupted' | 'timeout' };

/**
 * Polls the operation's numbers until every changeset has a result (stderr shows them as they
 * grow), then reads every result page by page. Stops early on Ctrl-C or after `timeoutMs`.
 */
async function follow(
  client: SpecServiceClient,
  operationId: string,
  io: CliIo,
  timeoutMs: number | undefined,
): Promise<Followed> {
  const every = envMs(io.env, 'CAMPAIGN_POLL_INTERVAL_MS', POLL_INTERVAL_MS);
  const stop = new AbortController();
  const stopped = new Promise<Followed>((resolve) => {
    const interrupted = () => resolve({ stopped: 'interrupted' });
    if (io.interrupt?.aborted) interrupted();
    io.interrupt?.addEventListener('abort', interrupted, { once: true, signal: stop.signal });
    if (timeoutMs !== undefined) {
      const timer = setTimeout(() => resolve({ stopped: 'timeout' }), timeoutMs);
      stop.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }
  });
  let shown = '';
  const polled = pollUntil(
    async () => {
      const reply = await client.request<BulkResultsPage>('bulk-results', {
        operationId,
        limit: 1,
      });
      if (stop.signal.aborted) return undefined;
      if (!reply.ok)
        throw new CliFailure(`cannot follow operation ${operationId}: ${reply.error.message}`, 1);
      const finished = reply.done + reply.skipped + reply.failed;
      const line = `${reply.operation}: ${finished}/${reply.changesets} (${reply.done} done, ${reply.skipped} skipped, ${reply.failed} failed)`;
      if (line !== shown && !io.stderrIsTTY) io.stderr(`${line}\n`);
      shown = line;
      return finished >= reply.changesets ? true : undefined;
    },
    { intervalMs: every, signal: stop.signal },
  );
  polled.catch(() => undefined);
  try {
    const done = await Promise.race([polled, stopped]);
    if (done === undefined) return { stopped: 'interrupted' };
    if (done !== true) return done;
    const results: BulkChangesetResult[] = [];
    let first: BulkResultsPage | undefined;
    let after: string | null = null;
    do {
      const reply: ApiReply<BulkResultsPage> = await client.request<BulkResultsPage>(
        'bulk-results',
        { operationId, after },
      );
      if (!reply.ok)
        throw new CliFailure(`cannot read operation ${operationId}: ${reply.error.message}`, 1);
      first ??= reply;
      results.push(...reply.results);
      after = reply.next;
    } while (after !== null);
    const { ok: _ok, next: _next, ...summary } = first as BulkResultsPage & { ok: true };
    return { results: { ...summary, results } };
  } finally {
    stop.abort();
  }
}
