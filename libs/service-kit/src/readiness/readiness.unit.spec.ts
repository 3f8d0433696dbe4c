import { describe, expect, it } from '@jest/globals';
import { Readiness } from './readiness.js';

describe('Readiness', () => {
  it('is ready when every check passes, and lists them', async () => {
    const readiness = new Readiness();
    readiness.add('database', () => true);
    readiness.add('component:relay', async () => true);
    expect(await readiness.report()).toEqual({
      status: 'ready',
      checks: { database: 'ok', 'component:relay': 'ok' },
    });
  });

  it('names each failing check with its reason: false, a thrown error, or a timeout', async () => {
    const readiness = new Readiness(50);
    readiness.add('database', () => true);
    readiness.add('nats', () => {
      throw new Error('reconnecting');
    });
    readiness.add('component:relay', () => false);
    readiness.add('component:consumer', () => new Promise<boolean>(() => undefined));
    expect(await readiness.report()).toEqual({
      status: 'not ready',
      checks: {
        database: 'ok',
        nats: 'reconnecting',
        'component:relay': 'not ready',
        'component:consumer': 'timed out after 50 ms',
      },
    });
  });

  it('reports stopping once shutdown began, whatever the checks say', async () => {
    const readiness = new Readiness();
    readiness.add('database', () => true);
    readiness.markStopping();
    expect(await readiness.report()).toEqual({ status: 'stopping', checks: {} });
  });

  it('refuses two checks with one name, which would hide one of them', () => {
    const readiness = new Readiness();
    readiness.add('component:relay', () => true);
    expect(() => readiness.add('component:relay', () => true)).toThrow(
      'readiness check "component:relay" is registered twice',
    );
  });
});
