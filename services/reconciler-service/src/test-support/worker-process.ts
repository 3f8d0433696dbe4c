// A reconciler worker as its own process, so a test can SIGKILL it. It prints `opened` after
// it opened a pull request and before it records it, then waits there for its death.
import { campaignsCatalogue, openDatabase, poolOf, PostgresEventStore } from '@campaigns/events';
import { CodeHosts, secretValues } from '@campaigns/codehost';
import { ReconcilerWorker } from '../executor/reconciler-worker.js';
import { reconcilerDatabase } from '../reconciler-database.js';
import { loadReconcilerConfig } from '../reconciler-settings.js';

// The harness has migrated the database; this process only opens it.
const database = await openDatabase({
  url: process.env.DATABASE_URL!,
  applicationName: 'reconciler-worker-process',
  ...reconcilerDatabase,
  onPoolError: () => undefined,
});
const config = await loadReconcilerConfig(process.env);
const worker = new ReconcilerWorker({
  database,
  store: new PostgresEventStore(poolOf(database), campaignsCatalogue(), {
    secrets: secretValues(config),
  }),
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
