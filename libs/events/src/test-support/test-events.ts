import { z } from 'zod';
import { defineEvent } from '../catalogue/event-catalogue.js';
import { EventCatalogue } from '../catalogue/event-catalogue.js';
import type { EventMetadata } from '../store/event.js';

/** Small event types for the library's own tests. */
export const CounterOpened = defineEvent('CounterOpened', z.object({ label: z.string().min(1) }));
export const CounterIncremented = defineEvent(
  'CounterIncremented',
  z.object({ by: z.number().int().positive() }),
  {
    schemaVersion: 2,
    // v1 called the amount "amount".
    upcasters: { 1: (d) => ({ by: (d as { amount: number }).amount }) },
  },
);
export const NoteAttached = defineEvent(
  'NoteAttached',
  z.object({
    text: z.string(),
    blob: z.object({ sha256: z.string(), size: z.number() }).optional(),
  }),
);

export const testCatalogue = new EventCatalogue([CounterOpened, CounterIncremented, NoteAttached]);

export function testMetadata(overrides: Partial<EventMetadata> = {}): EventMetadata {
  return {
    correlation_id: 'corr-1',
    causation_id: null,
    actor: 'alice',
    source: 'test',
    ...overrides,
  };
}
