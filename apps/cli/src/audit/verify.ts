import { campaignsCatalogue, formatVerifyReport, verifyEventLog } from '@campaigns/events';
import type pg from 'pg';
import { EXIT, type CliIo } from '../command.js';
import { auditDatabase } from './audit-store.js';

/**
 * The pure projections `--verify` rebuilds from the log and compares with the live ones, with
 * the schema each service keeps its live copy in. The spec-service's process manager and the
 * executor's dispatcher are left out: they do I/O (resolve repositories, append events, queue
 * jobs), so replaying them would not be a pure function of the log.
 */
export async function auditedProjections() {
  const [spec, reconciler, gateway] = await Promise.all([
    import('@campaigns/spec-service'),
    import('@campaigns/reconciler-service'),
    import('@campaigns/webhook-gateway'),
  ]);
  return [
    { liveSchema: spec.SPEC_SERVICE_SCHEMA, projection: spec.statusProjection() },
    { liveSchema: reconciler.RECONCILER_SCHEMA, projection: reconciler.changesetProjection() },
    {
      liveSchema: gateway.WEBHOOK_GATEWAY_SCHEMA,
      projection: gateway.trackedPullRequestsProjection,
    },
  ];
}

/** `campaign audit --verify`: exit 0 when the log and the projections check out, 1 otherwise. */
export async function verify(pool: pg.Pool, io: CliIo, json: boolean): Promise<number> {
  let lastProgress = 0;
  const projections = await auditedProjections();
  // The replays write their entities into temporary tables only: the auditor creates nothing.
  const database = await auditDatabase(
    io.env,
    projections.flatMap((p) => p.projection.entities),
  );
  const report = await verifyEventLog({
    pool,
    database,
    catalogue: campaignsCatalogue(),
    projections,
    onProgress: (checked) => {
      if (!io.stderrIsTTY || json || Date.now() - lastProgress < 250) return;
      lastProgress = Date.now();
      io.stderr(`\rverifying: ${checked.toLocaleString('en-US')} events checked`);
    },
  }).finally(() => database.destroy());
  if (lastProgress > 0) io.stderr('\r\x1b[K');
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatVerifyReport(report)}\n`);
  return report.ok ? EXIT.ok : EXIT.failed;
}
