import { describe, expect, it } from '@jest/globals';
import { campaignPhase, type StatusFacts } from './campaign-status.js';

/** A campaign of one workspace whose changeset reached the desired state. */
const done: StatusFacts = {
  resolved: true,
  resolutionError: null,
  deadLettered: 0,
  workspaces: 1,
  executed: 1,
  failed: 0,
  terminal: 0,
  converging: 0,
  unseen: 0,
};

describe('campaignPhase', () => {
  it('is complete when every execution is done and every changeset reached the newest desired state', () => {
    expect(campaignPhase(done)).toBe('complete');
  });

  it('is executing until `on:` is resolved and every execution has been rendered', () => {
    expect(campaignPhase({ ...done, resolved: false, workspaces: 0, executed: 0 })).toBe(
      'executing',
    );
    expect(campaignPhase({ ...done, executed: 0 })).toBe('executing');
  });

  it('keeps reconciling while a changeset can still converge or is not seen by the status projection yet', () => {
    expect(campaignPhase({ ...done, converging: 1 })).toBe('reconciling');
    expect(campaignPhase({ ...done, unseen: 1 })).toBe('reconciling');
  });

  it('needs attention once converged with a failed execution or a terminal changeset error', () => {
    expect(campaignPhase({ ...done, failed: 1 })).toBe('needs-attention');
    expect(campaignPhase({ ...done, terminal: 1 })).toBe('needs-attention');
    // Until then, the others still converging come first.
    expect(campaignPhase({ ...done, failed: 1, converging: 1 })).toBe('reconciling');
  });

  it('needs attention at once when a stage cannot go on: resolution failed, or a consumer gave up on an event', () => {
    expect(campaignPhase({ ...done, resolutionError: 'github.com is unreachable' })).toBe(
      'needs-attention',
    );
    // A dead-lettered SpecApplied: nothing was resolved or executed, and nothing will be.
    expect(
      campaignPhase({ ...done, resolved: false, workspaces: 0, executed: 0, deadLettered: 1 }),
    ).toBe('needs-attention');
    expect(campaignPhase({ ...done, executed: 0, converging: 3, deadLettered: 1 })).toBe(
      'needs-attention',
    );
  });
});
