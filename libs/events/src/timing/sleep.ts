/**
 * The one sleep: resolves after `ms`, or at once when `signal` aborts (never rejects), so loops
 * that sleep between polls stop promptly on shutdown.
 */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    // The listener goes when the time is up too: a loop sleeping on one long-lived signal
    // would otherwise add one listener per sleep, forever.
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * The one polling loop: calls `attempt` until it returns something other than undefined, and
 * returns that; sleeps `intervalMs` between attempts. Returns undefined when `signal` aborts
 * first. Errors from `attempt` propagate.
 */
export async function pollUntil<T>(
  attempt: () => Promise<T | undefined> | T | undefined,
  options: { intervalMs: number; signal?: AbortSignal },
): Promise<T | undefined> {
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (options.signal?.aborted) return undefined;
    await sleep(options.intervalMs, options.signal);
    if (options.signal?.aborted) return undefined;
  }
}
