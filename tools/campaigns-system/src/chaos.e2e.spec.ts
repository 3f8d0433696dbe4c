// R1 item 4, the small chaos run of `npm test` (`npm run chaos` is the 200-repository one): ten
// repositories, publish, retitle, remove two; meanwhile every service is killed with SIGKILL at
// least once and restarted, NATS and PostgreSQL restart once each, and the simulator answers 10 %
// of API calls with a 5xx, adds 200 ms to each and holds the bot to two requests in flight (a
// secondary limit, answered 403 with retry-after). The end state must be the fault-free run's.
// The content-creation limit is tripped by `npm run chaos` only: its one-minute window would
// add a minute per phase to this test.
import { afterAll, describe, expect, it } from '@jest/globals';
import { planChaos } from './chaos/chaos-plan.js';
import { runChaos, runReference, type ChaosRunSettings } from './chaos/test-support/chaos-run.js';

const plan = planChaos({
  seed: 1205,
  repos: 10,
  removed: 2,
  kills: 6,
  minKillsPerService: 1,
  replicas: {
    'spec-service': 1,
    'executor-service': 2,
    'reconciler-service': 1,
    'webhook-gateway': 1,
  },
  sim: {
    errorRate: 0.1,
    errorStatuses: [500, 502, 503],
    latencyMs: 200,
    concurrency: 2,
    contentPerMinute: 1_000,
    retryAfterSeconds: 1,
  },
});

const lines: string[] = [];
const settings: ChaosRunSettings = {
  repos: 10,
  replicas: {
    'spec-service': 1,
    'executor-service': 2,
    'reconciler-service': 1,
    'webhook-gateway': 1,
  },
  phaseTimeoutMs: 150_000,
  convergeTimeoutMs: 90_000,
  recoverTimeoutMs: 60_000,
  say: (line) => lines.push(`${new Date().toISOString()} ${line}`),
  ...(process.env.CHAOS_LOG_DIR ? { logDir: process.env.CHAOS_LOG_DIR } : {}),
};

describe('chaos: kill -9s, a broker and a database restart and a failing code host', () => {
  afterAll(() => {
    // The driver's own account of the run, for whoever reads a failure.
    if (process.env.CHAOS_DEBUG) process.stderr.write(`${lines.join('\n')}\n`);
  });

  it('ends with the same pull requests and changesets as a fault-free run, none twice, none lost', async () => {
    const reference = await runReference(plan, settings);
    expect({ settled: reference.settled, incidents: reference.incidents }).toEqual({
      settled: true,
      incidents: [],
    });
    expect(reference.record.auditClean).toBe(true);

    const chaos = await runChaos(plan, reference.record, settings);
    const report = { lines, incidents: chaos.incidents };

    // Every planned fault happened, and the code host really failed and limited.
    expect(chaos.faults.map((f) => f.fault)).toEqual(plan.faults);
    const killed = new Set(
      chaos.faults.flatMap((f) => (f.fault.kind === 'kill' ? [f.fault.service] : [])),
    );
    expect([...killed].sort()).toEqual(Object.keys(settings.replicas).sort());
    expect(chaos.api.errors5xx).toBeGreaterThan(0);
    expect(chaos.api.rateLimited).toBeGreaterThan(0);

    expect({ comparison: chaos.comparison, report }).toEqual({
      comparison: {
        duplicatePrs: 0,
        lostChangesets: 0,
        differences: [],
        differenceCount: 0,
        converged: true,
      },
      report: expect.anything(),
    });
    expect(chaos.record.deadLetters).toBe(0);
    expect(chaos.record.auditClean).toBe(true);
    expect(chaos.faults.filter((f) => f.recoveredS === null)).toEqual([]);
  }, 420_000);
});
