// A projection consumer as its own process. With PAUSE_AFTER_COMMIT=1 it stops after its
// transaction committed and before acknowledging, the window a crash test kills it in.
import pg from 'pg';
import { ProjectionConsumer } from '../consumers/projection-consumer.js';
import { connect } from '@nats-io/transport-node';
import { natsConnectTarget } from '../nats-connect-options.js';
import { PostgresEventStore } from '../store/event-store.js';
import { testCatalogue } from './test-events.js';
import { counterProjection } from './test-projection.js';
import { openProjectionDatabase } from './test-projection-database.js';

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL });
pool.on('error', () => undefined);
const nats = await connect({ ...natsConnectTarget(env.NATS_URL!), name: 'consumer-fixture' });
const projection = counterProjection();
const database = await openProjectionDatabase(env.DATABASE_URL!, 'fixture', [projection]);
const consumer = new ProjectionConsumer({
  store: new PostgresEventStore(pool, testCatalogue),
  database,
  nats,
  projection,
  schema: 'fixture',
  topology: { streamName: env.STREAM!, subjectPrefix: env.PREFIX! },
  ackWaitMs: Number(env.ACK_WAIT_MS ?? 30_000),
  async afterCommit(events) {
    console.log(`committed ${events.length}`);
    if (env.PAUSE_AFTER_COMMIT === '1') await new Promise(() => undefined);
  },
});
await consumer.start();
console.log('started');
