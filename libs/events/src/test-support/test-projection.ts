import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ProjectionDefinition } from '../projections/projection.js';
import type { StoredEvent } from '../store/event.js';

@Entity({ name: 'counters' })
export class CounterRow {
  @PrimaryColumn({ name: 'stream_id', type: 'text' })
  streamId!: string;

  @Column({ type: 'text' })
  label!: string;

  @Column({ type: 'bigint' })
  total!: string;

  @Column({ name: 'last_at', type: 'timestamptz' })
  lastAt!: Date;
}

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
    entities: [CounterRow],
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
    async handle(events, { manager }) {
      const counters = manager.getRepository(CounterRow);
      for (const e of events) {
        if (options.fail?.(e))
          throw new Error(`handler refused ${e.type} ${e.stream_id}@${e.stream_version}`);
        if (e.type === 'CounterOpened') {
          await counters.insert({
            streamId: e.stream_id,
            label: (e.data as { label: string }).label,
            total: '0',
            lastAt: e.recorded_at,
          });
        } else if (e.type === 'CounterIncremented') {
          await counters
            .createQueryBuilder()
            .update()
            .set({ total: () => 'total + :by', lastAt: e.recorded_at })
            .where('stream_id = :id', { id: e.stream_id })
            .setParameter('by', (e.data as { by: number }).by)
            .execute();
        }
      }
      // Effects are recorded in the order events are applied; `seq` shows that order. One
      // set-based statement for the batch.
      await manager.query(
        `INSERT INTO effects (event_id, stream_id, stream_version)
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
