import { describe, expect, it } from '@jest/globals';
import type { ChangesetSpecData } from '@campaigns/events';
import { newChangesetRow, specForRound, type RecordedSpec } from './changeset-row.js';

const recorded = (specEventId: string, o: Partial<ChangesetSpecData> = {}): RecordedSpec => ({
  specEventId,
  changesetId: 'cs-1',
  campaign: 'hello-world',
  repository: 'github.com/acme/api',
  headBranch: 'hello-world',
  spec: {
    baseRef: 'main',
    baseRevision: 'b'.repeat(40),
    title: 'Hello',
    body: 'Body',
    commit: { message: 'Append Hello', author: { name: 'Bot', email: 'bot@example.com' } },
    published: true,
    diff: { sha256: 'd'.repeat(64), size: 10 },
    files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
    ...o,
  },
  importNumber: null,
  correlationId: 'apply-1',
  actor: 'ada',
  recordedAt: new Date('2026-12-04T12:00:00Z'),
});
const row = newChangesetRow({
  changesetId: 'cs-1',
  campaign: 'hello-world',
  repository: 'github.com/acme/api',
  headBranch: 'hello-world',
});

describe('specForRound', () => {
  it('Given no bulk operation, when a round starts, then it plans with the desired spec as recorded', () => {
    expect(specForRound(row, recorded('s2'), recorded('s1'))).toMatchObject({
      title: 'Hello',
      published: true,
    });
  });

  it('Given a changeset a bulk operation closed, when a new desired state says nothing new, then the round plans it as retired: it stays closed', () => {
    const held = { ...row, heldClosed: true, externalState: 'closed' as const };
    expect(specForRound(held, recorded('s2'), recorded('s1'))).toBeNull();
  });

  it('Given a changeset a bulk operation closed, when its spec changes, then the round plans with it (and the planner reopens it)', () => {
    const held = { ...row, heldClosed: true, externalState: 'closed' as const };
    expect(specForRound(held, recorded('s2', { title: 'Hi' }), recorded('s1'))).toMatchObject({
      title: 'Hi',
    });
  });

  it('Given a bulk publish, when the spec keeps the changeset local, then the round publishes it; a draft spec stays a draft', () => {
    const requested = { ...row, publishRequested: true };
    expect(specForRound(requested, recorded('s1', { published: false }), null)).toMatchObject({
      published: true,
    });
    expect(specForRound(requested, recorded('s1', { published: 'draft' }), null)).toMatchObject({
      published: 'draft',
    });
    expect(specForRound(row, recorded('s1', { published: false }), null)).toMatchObject({
      published: false,
    });
  });
});
