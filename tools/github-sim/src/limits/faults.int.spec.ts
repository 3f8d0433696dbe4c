import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubSim, type GithubSim } from '../github-sim.js';

describe('fault injection over HTTP', () => {
  let sim: GithubSim;
  const get = () =>
    fetch(`${sim.apiUrl}/repos/acme/repo-00001`, {
      headers: { authorization: `token ${sim.adminToken}` },
    });

  beforeAll(async () => {
    sim = await startGithubSim({ repos: 1 });
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('answers with the configured 5xx statuses, in the same order for the same seed', async () => {
    const run = async () => {
      await sim.control.configureFaults({
        seed: 9,
        errorRate: 0.5,
        errorStatuses: [500, 502, 503],
      });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await get()).status);
      return statuses;
    };
    const first = await run();
    expect(first.some((s) => s >= 500)).toBe(true);
    expect(first.some((s) => s === 200)).toBe(true);
    expect(await run()).toEqual(first);
    const failed = await get().then((r) => (r.status >= 500 ? r.json() : null));
    if (failed) expect(failed).toMatchObject({ message: expect.any(String) });
    await sim.control.configureFaults({ errorRate: 0 });
  });

  it('resets connections and adds latency, and logs what it did', async () => {
    await sim.control.configureFaults({ resetRate: 1 });
    await expect(get()).rejects.toThrow();
    await sim.control.configureFaults({ resetRate: 0, latency: { kind: 'fixed', ms: 120 } });
    const started = performance.now();
    expect((await get()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    await sim.control.configureFaults({ latency: { kind: 'none' } });
    const log = await sim.control.requests({ kind: 'rest' });
    expect(log.some((e) => e.status === 0)).toBe(true);
  });
});
