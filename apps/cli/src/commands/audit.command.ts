import { EXIT, type CliIo, type Command } from '../command.js';
import { parseAuditArgs, type AuditRequest } from './audit-options.js';
import { CliFailure } from './spec-service-client.js';

export const auditCommand: Command = {
  name: 'audit',
  summary: "Replay the event log: a campaign's history, its state at a moment, or --verify",
  usage:
    'campaign audit NAME [--changeset HOST/OWNER/NAME[@BRANCH]] [--since T] [--until T] [--json]\n' +
    '       campaign audit NAME --at T [--json]\n' +
    '       campaign audit --verify [--json]',
  async run(args, io) {
    const request = parseAuditArgs(args);
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
    return verify(pool, io, request.json);
  }
  const store = await import('../audit/audit-store.js');
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
    if (request.json) io.stdout(`${JSON.stringify(result.status, null, 2)}\n`);
    else
      io.stdout(
        `As of ${request.at.toISOString()}, replayed from ${result.events} events:\n\n${formatStatus(result.status)}`,
      );
    return EXIT.ok;
  }

  const timeline = await import('../audit/timeline.js');
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
  if (request.json) {
    // As stored (not upcast): the hash covers exactly these payloads.
    io.stdout(shown.map((e) => `${timeline.eventJsonLine(e)}\n`).join(''));
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
