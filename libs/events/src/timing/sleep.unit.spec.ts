import { getEventListeners } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { pollUntil, sleep } from './sleep.js';

describe('pollUntil', () => {
  it('Given an attempt that succeeds on its third call, when polled, then it returns that result after two waits', async () => {
    let calls = 0;
    const started = Date.now();
    const result = await pollUntil(() => (++calls === 3 ? 'done' : undefined), { intervalMs: 20 });
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('Given a signal that aborts while it waits, when polled, then it stops with undefined', async () => {
    const abort = new AbortController();
    let calls = 0;
    let attempted: () => void = () => undefined;
    const firstAttempt = new Promise<void>((resolve) => (attempted = resolve));
    const polling = pollUntil(
      () => {
        calls++;
        attempted();
        return undefined;
      },
      { intervalMs: 60_000, signal: abort.signal },
    );
    // Abort once the first attempt has run and polling waits out its interval.
    await firstAttempt;
    abort.abort();
    expect(await polling).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('Given an attempt that throws, when polled, then the error propagates', async () => {
    await expect(
      pollUntil(
        () => {
          throw new Error('store unreadable');
        },
        { intervalMs: 10 },
      ),
    ).rejects.toThrow('store unreadable');
  });
});

describe('sleep', () => {
  it('leaves no listener on the signal once the time is up', async () => {
    const abort = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(1, abort.signal);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
  });

  it('ends early when the signal aborts', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const sleeping = sleep(10_000, abort.signal);
    abort.abort();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
