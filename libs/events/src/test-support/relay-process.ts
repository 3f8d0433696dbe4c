// A relay candidate as its own process. With PAUSE_AFTER_PUBLISH=1 it stops between JetStream's
// acknowledgement and the checkpoint, the window a crash test kills it in.
import pg from 'pg';
import { EventRelay } from '../relay/event-relay.js';
import { connect } from '@nats-io/transport-node';
import { natsConnectTarget } from '../nats-connect-options.js';
import { PostgresEventStore } from '../store/event-store.js';
import { testCatalogue } from './test-events.js';

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL });
pool.on('error', () => undefined);
const nats = await connect({ ...natsConnectTarget(env.NATS_URL!), name: 'relay-fixture' });
const relay = new EventRelay({
  store: new PostgresEventStore(pool, testCatalogue),
  nats,
  topology: { streamName: env.STREAM!, subjectPrefix: env.PREFIX! },
  duplicateWindowMs: Number(env.DUPLICATE_WINDOW_MS ?? 120_000),
  leaderRetryMs: 200,
  async afterPublish(events) {
    console.log(`published ${events.length}`);
    if (env.PAUSE_AFTER_PUBLISH === '1') await new Promise(() => undefined);
  },
});
await relay.start();
console.log('started');
setInterval(() => console.log(`leader=${relay.isLeader}`), 100);
