import { Option } from 'commander';
import { EXIT, type CliIo, type Command } from '../command.js';
import { auditRequestOf, type AuditRequest, type AuditValues } from './audit-options.js';
import { addOutputOptions, once, outputOf } from './options.js';
import { printData, yamlText } from './output.js';
import { CliFailure } from './spec-service-client.js';
import { recordedCampaignKey } from './namespace.js';

export const auditCommand: Command = {
  name: 'audit',
  summary: "Replay the event log: a campaign's history, its state at a moment, or --verify",
  usage:
    'campaign audit NAME [--changeset HOST/OWNER/NAME[@BRANCH]] [--since T] [--until T] [-o json|yaml]\n' +
    '       campaign audit NAME --at T [-o json|yaml]\n' +
    '       campaign audit --verify [-o json|yaml]',
  configure(command) {
    command
      .argument('[NAME]', 'the campaign')
      .addOption(
        new Option(
          '--changeset <HOST/OWNER/NAME[@BRANCH]>',
          "only this changeset's events",
        ).argParser(once('--changeset')),
      )
      .addOption(
        new Option('--since <T>', 'events at or after T (ISO 8601; UTC unless it says)').argParser(
          once('--since'),
        ),
      )
      .addOption(new Option('--until <T>', 'events at or before T').argParser(once('--until')))
      .addOption(
        new Option('--at <T>', "the campaign's status as it was at T, replayed").argParser(
          once('--at'),
        ),
      )
      .option('--verify', 'check hash chains, versions, order and the live projections');
    addOutputOptions(command, ['json', 'yaml']);
  },
  help: {
    env: [
      ['AUDIT_DATABASE_URL', 'the event store, read-only (default: DATABASE_URL)'],
      ['DATABASE_URL', 'the event store (default postgres://postgres@127.0.0.1:5432/campaigns)'],
    ],
    examples: [
      ['campaign audit hello-world', "the campaign's history, oldest first"],
      [
        'campaign audit hello-world --changeset github.com/acme/api@hello-world --since 2026-01-01',
        "one changeset's events since a day",
      ],
      ['campaign audit hello-world -o json > hello-world.jsonl', 'JSON Lines, for a SIEM'],
      ['campaign audit hello-world --at 2026-01-31T12:00:00Z', 'its status as it was then'],
      ['campaign audit --verify', 'check the whole event log'],
    ],
    exitCodes: [
      [0, 'success (--verify: the log is sound)'],
      [1, 'no such campaign, the store cannot be read, or --verify found a problem'],
      [2, 'the command line is wrong'],
    ],
  },
  async run({ options, args }, io) {
    const output = outputOf(options);
    const values: AuditValues = {
      changeset: options['changeset'] as string | undefined,
      since: options['since'] as string | undefined,
      until: options['until'] as string | undefined,
      at: options['at'] as string | undefined,
    };
    const request = auditRequestOf(
      args[0] === undefined || args[0] === '' ? args[0] : recordedCampaignKey(args[0], io.env),
      values,
      options['verify'] === true,
      output === 'table' ? 'text' : output === 'yaml' ? 'yaml' : 'json',
    );
    // Loaded only for audit: the projections and the database driver are not every command's.
    const { auditPool } = await import('../audit/audit-store.js');
    const pool = auditPool(io.env);
    try {
      return await runAudit(request, pool, io);
    } catch (err) {
      if (err instanceof CliFailure) throw err;
      throw new CliFailure(`audit: reading the event store failed: ${(err as Error).message}`, 1);
    } finally {
      await pool.end().catch(() => undefined);
    }
  },
};

async function runAudit(
  request: AuditRequest,
  pool: import('pg').Pool,
  io: CliIo,
): Promise<number> {
  if (request.mode === 'verify') {
    const { verify } = await import('../audit/verify.js');
    if (request.format !== 'yaml') return verify(pool, io, request.format === 'json');
    // verify prints its report as JSON; YAML is the same data.
    let json = '';
    const code = await verify(pool, { ...io, stdout: (t) => (json += t) }, true);
    printData(io, 'yaml', JSON.parse(json));
    return code;
  }
  const store = await import('@campaigns/audit');
  const exists = await store.readOnly(pool, (db) => store.campaignExists(db, request.campaign));
  if (!exists) throw new CliFailure(`audit: no campaign "${request.campaign}" in the event log`, 1);

  if (request.mode === 'at') {
    const { campaignStatusAt } = await import('../audit/status-at.js');
    const { formatStatus } = await import('./format.js');
    const result = await campaignStatusAt(io.env, request.campaign, request.at);
    if (result === null)
      throw new CliFailure(
        `audit: campaign "${request.campaign}" had not been applied by ${request.at.toISOString()}`,
        1,
      );
    if (request.format !== 'text') printData(io, request.format, result.status);
    else
      io.stdout(
        `As of ${request.at.toISOString()}, replayed from ${result.events} events:\n\n${formatStatus(result.status)}`,
      );
    return EXIT.ok;
  }

  const timeline = await import('@campaigns/audit/timeline');
  const { events, previousSpecText } = await store.readOnly(pool, async (db) => ({
    events: await store.campaignEvents(db, request.campaign, {
      ...(request.since ? { since: request.since } : {}),
      ...(request.until ? { until: request.until } : {}),
    }),
    previousSpecText: request.since
      ? await store.specTextBefore(db, request.campaign, request.since)
      : null,
  }));
  const shown = request.changeset ? timeline.filterChangeset(events, request.changeset) : events;
  if (request.format === 'json') {
    // As stored (not upcast): the hash covers exactly these payloads.
    io.stdout(shown.map((e) => `${timeline.eventJsonLine(e)}\n`).join(''));
    return EXIT.ok;
  }
  if (request.format === 'yaml') {
    // The same records as YAML documents, one per event.
    io.stdout(shown.map((e) => `---\n${yamlText(JSON.parse(timeline.eventJsonLine(e)))}`).join(''));
    return EXIT.ok;
  }
  const { campaignsCatalogue, PostgresEventStore } = await import('@campaigns/events');
  const catalogue = new PostgresEventStore(pool, campaignsCatalogue());
  const current = shown.map((e) => {
    try {
      return catalogue.upcast(e);
    } catch {
      return e; // shown as stored; `--verify` reports what is wrong with it
    }
  });
  io.stdout(timeline.formatTimeline(current, { campaign: request.campaign, previousSpecText }));
  return EXIT.ok;
}
