import { describe, expect, it } from '@jest/globals';
import { LoopHealth } from './loop-health.js';

describe('LoopHealth', () => {
  it('is ready once started, rides out a failed round or two, and drops after three in a row', () => {
    const health = new LoopHealth();
    expect(health.ready(false)).toBe(false);
    health.markStarted();
    expect(health.ready(false)).toBe(true);
    health.failed();
    health.failed();
    expect(health.ready(false)).toBe(true);
    health.failed();
    expect(health.ready(false)).toBe(false);
    health.succeeded();
    expect(health.ready(false)).toBe(true);
    expect(health.ready(true)).toBe(false);
  });
});
