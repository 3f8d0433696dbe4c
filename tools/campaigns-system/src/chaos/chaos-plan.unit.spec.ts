import { describe, expect, it } from '@jest/globals';
import {
  CHAOS_PHASES,
  momentAt,
  momentOrder,
  planChaos,
  selectedSampleRepos,
  type ChaosFault,
  type ChaosPlanOptions,
} from './chaos-plan.js';
import { seededRandom } from './seeded-random.js';

const REPLICAS = {
  'spec-service': 1,
  'executor-service': 2,
  'reconciler-service': 2,
  'webhook-gateway': 1,
};

const OPTIONS: ChaosPlanOptions = {
  seed: 20261205,
  repos: 200,
  removed: 5,
  kills: 20,
  minKillsPerService: 3,
  replicas: REPLICAS,
  sim: {
    errorRate: 0.1,
    errorStatuses: [500, 502, 503],
    latencyMs: 200,
    concurrency: 8,
    contentPerMinute: 80,
    retryAfterSeconds: 5,
  },
};

const kills = (faults: ChaosFault[]) => faults.filter((f) => f.kind === 'kill');

describe('the seeded random numbers', () => {
  it('repeat for a seed, differ for another, and stay in [0, 1)', () => {
    const draw = (seed: number) => Array.from({ length: 1000 }, seededRandom(seed));
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const values = draw(7);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    // Roughly uniform: each tenth holds about a tenth of the draws.
    const tenths = Array.from({ length: 10 }, (_, i) =>
      values.filter((v) => Math.floor(v * 10) === i),
    );
    for (const tenth of tenths) expect(tenth.length).toBeGreaterThan(60);
  });
});

describe('planChaos', () => {
  it('draws the same plan from the same seed, and another from another seed', () => {
    expect(planChaos(OPTIONS)).toEqual(planChaos(OPTIONS));
    const other = planChaos({ ...OPTIONS, seed: OPTIONS.seed + 1 });
    expect(other.faults).not.toEqual(planChaos(OPTIONS).faults);
    expect(other.removedRepos).not.toEqual(planChaos(OPTIONS).removedRepos);
    expect(other.sim.seed).not.toBe(planChaos(OPTIONS).sim.seed);
  });

  it('kills 20 times, every service at least three times, a process that exists, and restarts NATS and PostgreSQL once', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const plan = planChaos({ ...OPTIONS, seed });
      const killed = kills(plan.faults);
      expect(killed).toHaveLength(20);
      for (const service of Object.keys(REPLICAS)) {
        const times = killed.filter((f) => f.kind === 'kill' && f.service === service).length;
        expect({ seed, service, atLeast3: times >= 3 }).toEqual({ seed, service, atLeast3: true });
      }
      for (const f of killed) {
        if (f.kind !== 'kill') continue;
        expect(f.process).toBeGreaterThanOrEqual(0);
        expect(f.process).toBeLessThan(REPLICAS[f.service as keyof typeof REPLICAS]);
      }
      expect(plan.faults.filter((f) => f.kind === 'restart-nats')).toHaveLength(1);
      expect(plan.faults.filter((f) => f.kind === 'restart-postgres')).toHaveLength(1);
    }
  });

  it('lists the faults in the order of their moments, each inside its phase', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const { faults } = planChaos({ ...OPTIONS, seed });
      const order = faults.map((f) => momentOrder(f.at));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      for (const f of faults) {
        expect(CHAOS_PHASES).toContain(f.at.phase);
        expect(f.at.progress).toBeGreaterThanOrEqual(0);
        expect(f.at.progress).toBeLessThan(1);
      }
    }
  });

  it('spreads the moments over the phases by their shares', () => {
    const phases = Array.from({ length: 100 }, (_, seed) => planChaos({ ...OPTIONS, seed }))
      .flatMap((plan) => plan.faults)
      .map((f) => f.at.phase);
    const share = (phase: string) => phases.filter((p) => p === phase).length / phases.length;
    expect(share('publish')).toBeGreaterThan(0.4);
    expect(share('publish')).toBeLessThan(0.6);
    expect(share('retitle')).toBeGreaterThan(0.2);
    expect(share('remove')).toBeGreaterThan(0.1);
  });

  it('removes distinct repositories among those the campaign selects', () => {
    const selected = new Set(selectedSampleRepos(200));
    expect(selected.size).toBe(192);
    expect(selected.has('repo-00040')).toBe(false); // a fork
    expect(selected.has('repo-00050')).toBe(false); // archived
    for (let seed = 1; seed <= 50; seed++) {
      const { removedRepos } = planChaos({ ...OPTIONS, seed });
      expect(removedRepos).toHaveLength(5);
      expect(new Set(removedRepos).size).toBe(5);
      for (const name of removedRepos) expect(selected.has(name)).toBe(true);
    }
  });

  it('keeps its other draws when only the number of kills changes', () => {
    const more = planChaos({ ...OPTIONS, kills: 24 });
    expect(more.removedRepos).toEqual(planChaos(OPTIONS).removedRepos);
    expect(more.sim).toEqual(planChaos(OPTIONS).sim);
  });

  it('draws the same kills without the dependency restarts', () => {
    const without = planChaos({ ...OPTIONS, dependencyRestarts: false });
    expect(without.faults).toEqual(kills(planChaos(OPTIONS).faults));
    expect(without.removedRepos).toEqual(planChaos(OPTIONS).removedRepos);
  });

  it('refuses a plan that cannot kill every service often enough', () => {
    expect(() => planChaos({ ...OPTIONS, kills: 11 })).toThrow(
      /cannot kill each of 4 services 3 times/,
    );
    expect(() => planChaos({ ...OPTIONS, removed: 192 })).toThrow(/cannot remove/);
  });
});

describe('momentAt', () => {
  it('maps the run onto the phases: publish first, then retitle, then remove', () => {
    expect(momentAt(0)).toEqual({ phase: 'publish', progress: 0 });
    expect(momentAt(0.25)).toEqual({ phase: 'publish', progress: 0.5 });
    expect(momentAt(0.65)).toEqual({ phase: 'retitle', progress: expect.closeTo(0.5, 6) });
    expect(momentAt(0.9)).toEqual({ phase: 'remove', progress: expect.closeTo(0.5, 6) });
    expect(momentAt(0.9999).progress).toBeLessThan(1);
  });
});
