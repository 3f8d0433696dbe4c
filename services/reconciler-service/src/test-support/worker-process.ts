// A reconciler worker as its own process, so a test can SIGKILL it. It prints `opened` after
// it opened a pull request and before it records it, then waits there for its death.
import pg from 'pg';
import { campaignsCatalogue, PostgresEventStore } from '@campaigns/events';
import { CodeHosts, secretValues } from '@campaigns/codehost';
import { ReconcilerWorker } from '../executor/reconciler-worker.js';
import { loadReconcilerConfig, RECONCILER_SCHEMA } from '../reconciler-settings.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
pool.on('error', () => undefined);
const config = await loadReconcilerConfig(process.env);
const worker = new ReconcilerWorker({
  pool,
  store: new PostgresEventStore(pool, campaignsCatalogue(), { secrets: secretValues(config) }),
  schema: RECONCILER_SCHEMA,
  codeHosts: new CodeHosts(config, { writeSpacingMs: 0, notificationSpacingMs: 0 }),
  config,
  pollMs: 25,
  leaseMs: Number(process.env.LEASE_MS),
  workerId: 'process-worker',
  async afterHostWrite(_changesetId, operation) {
    if (operation !== 'publish') return;
    console.log('opened');
    await new Promise(() => undefined);
  },
});
await worker.start();
console.log('started');
