import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { defineEvent, EventCatalogue } from './event-catalogue.js';
import { EventValidationError, UnknownEventTypeError } from '../store/errors.js';

const Renamed = defineEvent('ThingRenamed', z.object({ name: z.string(), reason: z.string() }), {
  schemaVersion: 3,
  upcasters: {
    1: (d) => ({ name: (d as { title: string }).title }),
    2: (d) => ({ ...(d as object), reason: 'unknown' }),
  },
});

describe('EventCatalogue', () => {
  const catalogue = new EventCatalogue([Renamed]);

  it('upcasts a payload through every older schema version to the current one', () => {
    expect(catalogue.upcast('ThingRenamed', 1, { title: 'a' })).toEqual({
      name: 'a',
      reason: 'unknown',
    });
    expect(catalogue.upcast('ThingRenamed', 2, { name: 'b' })).toEqual({
      name: 'b',
      reason: 'unknown',
    });
    expect(catalogue.upcast('ThingRenamed', 3, { name: 'c', reason: 'r' })).toEqual({
      name: 'c',
      reason: 'r',
    });
  });

  it('names the event and the field of an invalid payload', () => {
    const err = (() => {
      try {
        catalogue.validate('ThingRenamed', { name: 1, reason: 'x' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EventValidationError);
    expect((err as EventValidationError).field).toBe('data.name');
    expect((err as Error).message).toMatch(/^ThingRenamed\.data\.name: /);
  });

  it('refuses a stored version newer than the process knows, telling to upgrade', () => {
    expect(() => catalogue.upcast('ThingRenamed', 4, {})).toThrow(
      /newer than this process knows .* upgrade/,
    );
  });

  it('refuses unknown types, listing the known ones', () => {
    expect(() => catalogue.validate('ThingExploded', {})).toThrow(UnknownEventTypeError);
    expect(() => catalogue.validate('ThingExploded', {})).toThrow(/known: ThingRenamed/);
  });

  it('refuses a definition that cannot upcast from every older version, and duplicate types', () => {
    expect(() => defineEvent('ThingMoved', z.object({}), { schemaVersion: 2 })).toThrow(
      /lacks an upcaster from v1/,
    );
    expect(() => new EventCatalogue([Renamed, Renamed])).toThrow(/defined twice/);
  });
});
