import { describe, expect, it } from '@jest/globals';
import { Faults } from './faults.js';

describe('Faults', () => {
  const config = {
    seed: 42,
    errorRate: 0.3,
    resetRate: 0.1,
    latency: { kind: 'exponential', meanMs: 20 } as const,
  };

  it('makes the same decisions for the same seed and request sequence', () => {
    const a = new Faults(config);
    const b = new Faults(config);
    const decisions = (f: Faults) =>
      Array.from({ length: 200 }, (_, i) => f.decide(`/api/v3/r/${i}`, false));
    expect(decisions(a)).toEqual(decisions(b));
  });

  it('draws different decisions for another seed, and about the configured share of errors', () => {
    const a = new Faults(config);
    const errors = Array.from({ length: 2000 }, () => a.decide('/api/v3/x', false)).filter(
      (d) => d.errorStatus !== null,
    ).length;
    expect(errors / 2000).toBeGreaterThan(0.25);
    expect(errors / 2000).toBeLessThan(0.35);
    const other = new Faults({ ...config, seed: 43 });
    const first = new Faults(config);
    const seq = (f: Faults) =>
      Array.from({ length: 50 }, () => f.decide('/api/v3/x', false).errorStatus);
    expect(seq(other)).not.toEqual(seq(first));
  });

  it('keeps streams apart: webhook draws do not shift the API sequence', () => {
    const plain = new Faults(config);
    const mixed = new Faults(config);
    const expected = Array.from({ length: 20 }, () => plain.decide('/api/v3/x', false));
    const actual = Array.from({ length: 20 }, () => {
      mixed.random('webhooks');
      return mixed.decide('/api/v3/x', false);
    });
    expect(actual).toEqual(expected);
  });

  it('leaves paths outside the configured patterns and git alone unless asked', () => {
    const f = new Faults({ ...config, errorRate: 1 });
    expect(f.decide('/_control/requests', false).errorStatus).toBeNull();
    expect(f.decide('/acme/x.git/info/refs', true).errorStatus).toBeNull();
    f.configure({ includeGit: true });
    expect(f.decide('/acme/x.git/info/refs', true).errorStatus).not.toBeNull();
  });

  it('samples each latency distribution within its bounds', () => {
    const f = new Faults({ seed: 7 });
    const uniform = Array.from({ length: 100 }, () =>
      f.sampleLatency({ kind: 'uniform', minMs: 10, maxMs: 20 }, 's'),
    );
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...uniform)).toBeLessThan(20);
    expect(f.sampleLatency({ kind: 'fixed', ms: 5 }, 's')).toBe(5);
    const normal = Array.from({ length: 500 }, () =>
      f.sampleLatency({ kind: 'normal', meanMs: 100, stddevMs: 10 }, 's'),
    );
    const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
    expect(mean).toBeGreaterThan(95);
    expect(mean).toBeLessThan(105);
  });
});
