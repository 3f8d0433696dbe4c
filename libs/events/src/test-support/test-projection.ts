import type { ProjectionDefinition } from '../projections/projection.js';
import type { StoredEvent } from '../store/event.js';

/**
 * Counters per stream plus one `effects` row per application of an event. `effects` has no
 * unique key on purpose: applying an event twice leaves two rows, so tests can see it.
 */
export function counterProjection(
  options: { fail?: (e: StoredEvent) => boolean } = {},
): ProjectionDefinition {
  return {
    name: 'counters',
    categories: ['counter'],
    migrations: (schema) => [
      {
        version: 1,
        name: 'counters and effects',
        sql: `CREATE TABLE ${schema}.counters (stream_id text PRIMARY KEY, label text NOT NULL, total bigint NOT NULL, last_at timestamptz NOT NULL);
              CREATE TABLE ${schema}.effects (seq bigint GENERATED ALWAYS AS IDENTITY, event_id uuid NOT NULL, stream_id text NOT NULL, stream_version bigint NOT NULL);`,
      },
    ],
    tables: [
      { name: 'counters', key: ['stream_id'] },
      // seq records application order, which differs between live lanes and a replay.
      { name: 'effects', key: ['event_id'], columns: ['event_id', 'stream_id', 'stream_version'] },
    ],
    async handle(events, { tx, schema }) {
      for (const e of events) {
        if (options.fail?.(e))
          throw new Error(`handler refused ${e.type} ${e.stream_id}@${e.stream_version}`);
        if (e.type === 'CounterOpened') {
          await tx.query(
            `INSERT INTO ${schema}.counters (stream_id, label, total, last_at) VALUES ($1, $2, 0, $3)`,
            [e.stream_id, (e.data as { label: string }).label, e.recorded_at],
          );
        } else if (e.type === 'CounterIncremented') {
          await tx.query(
            `UPDATE ${schema}.counters SET total = total + $2, last_at = $3 WHERE stream_id = $1`,
            [e.stream_id, (e.data as { by: number }).by, e.recorded_at],
          );
        }
      }
      // Effects are recorded in the order events are applied; `seq` shows that order.
      await tx.query(
        `INSERT INTO ${schema}.effects (event_id, stream_id, stream_version)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])`,
        [
          events.map((e) => e.event_id),
          events.map((e) => e.stream_id),
          events.map((e) => e.stream_version.toString()),
        ],
      );
    },
  };
}
