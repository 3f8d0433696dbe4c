import { Option } from 'commander';
import { EXIT, UsageError, type Command } from '../command.js';
import { parseTimestamp } from './audit-options.js';
import { renderTable } from './format.js';
import {
  addOutputOptions,
  isStructured,
  once,
  outputOf,
  parseDuration,
  tableView,
} from './options.js';
import { printData } from './output.js';
import { CliFailure } from './spec-service-client.js';
import { recordedCampaignKey } from './namespace.js';

export const burndownCommand: Command = {
  name: 'burndown',
  summary: "A campaign's changesets counted by state over time, from the event log",
  usage: 'campaign burndown NAME [--interval DURATION | --every-change] [--until T] [-o json|yaml]',
  configure(command) {
    command
      .argument('[NAME]', 'the campaign')
      .addOption(
        new Option(
          '--interval <DURATION>',
          'count every DURATION, e.g. 1h or 30m (default: about 30 rows from the first apply to --until)',
        ).argParser(once('--interval')),
      )
      .option('--every-change', 'count wherever the counts changed')
      .addOption(
        new Option(
          '--until <T>',
          'the last point (ISO 8601; UTC unless it says; default now)',
        ).argParser(once('--until')),
      );
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: [
      ['AUDIT_DATABASE_URL', 'the event store, read-only (default: DATABASE_URL)'],
      ['DATABASE_URL', 'the event store (default postgres://postgres@127.0.0.1:5432/campaigns)'],
    ],
    examples: [
      ['campaign burndown hello-world', 'open, merged, closed… from the first apply until now'],
      ['campaign burndown hello-world --interval 24h', 'one row a day'],
      ['campaign burndown hello-world --every-change --until 2026-01-31', 'each change until then'],
      [
        'campaign burndown hello-world -o json',
        'the same as JSON: {campaign, points: [{at, counts}]}',
      ],
    ],
    exitCodes: [
      [0, 'success'],
      [1, 'no such campaign, not applied by --until, or the store cannot be read'],
      [2, 'the command line is wrong'],
    ],
  },
  async run({ options, args }, io) {
    const format = outputOf(options);
    const name = args[0];
    if (name === undefined || name === '') throw new UsageError('burndown needs the campaign name');
    const campaign = recordedCampaignKey(name, io.env);
    const interval = options['interval'] as string | undefined;
    const everyChange = options['everyChange'] === true;
    if (interval !== undefined && everyChange)
      throw new UsageError('--interval and --every-change contradict: give one of them');
    const intervalMs = interval === undefined ? undefined : parseDuration('--interval', interval);
    const untilText = options['until'] as string | undefined;
    const until = untilText === undefined ? undefined : parseTimestamp('--until', untilText);

    // Loaded only here: the projections and the database driver are not every command's.
    const { auditPool } = await import('../audit/audit-store.js');
    const bd = await import('@campaigns/audit');
    const pool = auditPool(io.env);
    let log;
    try {
      log = await bd.readBurndownLog(pool, campaign, until);
    } catch (err) {
      throw new CliFailure(
        `burndown: reading the event store failed: ${(err as Error).message}`,
        1,
      );
    } finally {
      await pool.end().catch(() => undefined);
    }
    if (!log.found) throw new CliFailure(`burndown: no campaign "${campaign}" in the event log`, 1);
    if (log.start === null && log.deletedAt !== null)
      throw new CliFailure(
        `burndown: campaign "${campaign}" was deleted at ${log.deletedAt.toISOString()} and not applied again by ${log.until.toISOString()}; --until before then shows it as it was`,
        1,
      );
    if (log.start === null)
      throw new CliFailure(
        `burndown: campaign "${campaign}" had not been applied by ${log.until.toISOString()}`,
        1,
      );
    const span = log.until.getTime() - log.start.getTime();
    const every = intervalMs ?? bd.defaultInterval(span);
    if (!everyChange && bd.pointCount(log.start, log.until, every) > bd.MAX_POINTS)
      throw new UsageError(
        `--interval ${interval} gives more than ${bd.MAX_POINTS} rows from the first apply (${log.start.toISOString()}): give a longer one`,
      );
    const burndown = bd.foldBurndown(
      campaign,
      log.events,
      log.start,
      log.until,
      everyChange ? 'every-change' : { intervalMs: every },
      log.deletedAt,
    );
    if (isStructured(format)) printData(io, format, bd.burndownData(burndown));
    else {
      const { headers, rows } = bd.burndownRows(burndown);
      io.stdout(renderTable(headers, rows, tableView(io, format)));
    }
    return EXIT.ok;
  },
};
