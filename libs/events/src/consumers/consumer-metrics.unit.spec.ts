import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import type { ProjectionDefinition } from '../projections/projection.js';
import { ProjectionConsumer } from './projection-consumer.js';

const projection = (name: string): ProjectionDefinition => ({
  name,
  categories: ['thing'],
  migrations: () => [],
  entities: [],
  handle: async () => undefined,
  tables: [],
});

describe('ProjectionConsumer metrics', () => {
  it('lets several consumers of one process share a registry, labelled by consumer', async () => {
    const registry = new Registry();
    // Construction touches neither the store nor NATS; nothing is started here.
    const make = (name: string) =>
      new ProjectionConsumer({
        store: {} as never,
        // Construction reads only which schema the DataSource's connections search.
        database: { driver: { searchSchema: 'svc' } } as never,
        nats: {} as never,
        projection: projection(name),
        schema: 'svc',
        registry,
      });
    make('first');
    expect(() => make('second')).not.toThrow();
    const text = await registry.metrics();
    expect(text.match(/# TYPE campaigns_consumer_events_total counter/g)).toHaveLength(1);
  });
});
