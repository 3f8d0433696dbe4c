import { describe, expect, it } from '@jest/globals';
import { campaignsCatalogue } from '@campaigns/events';
import type { ChangesetObservation } from './code-host.js';
import { changesetObserved, observationDiffers, observedFields } from './observations.js';

const changeset = {
  changesetId: 'c'.repeat(32),
  campaign: 'hello-world',
  repository: 'github.com/acme/api',
  headBranch: 'hello-world',
};
const read: ChangesetObservation = {
  repo: 'github.com/acme/api',
  number: 7,
  nodeId: 'PR_7',
  url: 'https://github.com/acme/api/pull/7',
  title: 'Hello',
  state: 'MERGED',
  isDraft: false,
  reviewDecision: 'APPROVED',
  checksState: 'SUCCESS',
  headRefName: 'hello-world',
  headRefOid: 'a'.repeat(40),
  baseRefName: 'main',
  updatedAt: '2026-12-04T12:00:00Z',
  labels: [],
};
const catalogue = campaignsCatalogue();

describe('changesetObserved', () => {
  it('Given a read by the reconciler, when built, then it is a valid sync observation with every field', () => {
    const data = changesetObserved(changeset, read.number, observedFields(read), {
      source: 'sync',
    });
    expect(data).toEqual({
      ...changeset,
      source: 'sync',
      deliveryId: null,
      trigger: 'sync',
      number: 7,
      url: read.url,
      title: 'Hello',
      state: 'merged',
      draft: false,
      reviewDecision: 'APPROVED',
      checks: 'SUCCESS',
      headRefOid: 'a'.repeat(40),
    });
    expect(() => catalogue.validate('ChangesetObserved', data)).not.toThrow();
  });

  it('Given a webhook delivery, when built, then it names the delivery, the trigger and who acted, and only the fields the payload said', () => {
    const data = changesetObserved(
      changeset,
      7,
      { checks: 'FAILURE', headRefOid: 'b'.repeat(40) },
      { source: 'webhook', deliveryId: 'd-1', trigger: 'check_suite.completed', sender: 'grace' },
    );
    expect(data).toEqual({
      ...changeset,
      source: 'webhook',
      deliveryId: 'd-1',
      trigger: 'check_suite.completed',
      number: 7,
      checks: 'FAILURE',
      headRefOid: 'b'.repeat(40),
      sender: 'grace',
    });
    expect(() => catalogue.validate('ChangesetObserved', data)).not.toThrow();
  });

  it('tells a read that differs in state, draft, title or head from what is known', () => {
    const known = {
      externalState: 'merged',
      draft: false,
      title: 'Hello',
      headRefOid: 'a'.repeat(40),
      checks: 'SUCCESS' as const,
      reviewDecision: 'APPROVED' as const,
    };
    expect(observationDiffers(known, read)).toBe(false);
    expect(observationDiffers({ ...known, title: 'Old' }, read)).toBe(true);
    expect(observationDiffers({ ...known, externalState: 'open' }, read)).toBe(true);
  });

  it('tells a read whose checks or review decision differ from the last observed, even when nothing else does', () => {
    const known = {
      externalState: 'merged',
      draft: false,
      title: 'Hello',
      headRefOid: 'a'.repeat(40),
      checks: 'SUCCESS' as const,
      reviewDecision: 'APPROVED' as const,
    };
    expect(observationDiffers(known, read)).toBe(false);
    expect(observationDiffers({ ...known, checks: 'FAILURE' }, read)).toBe(true);
    expect(observationDiffers({ ...known, reviewDecision: 'CHANGES_REQUESTED' }, read)).toBe(true);
    // Never observed: no checks reported, a review required.
    const never = { ...known, checks: null, reviewDecision: null };
    expect(observationDiffers(never, read)).toBe(true);
    expect(
      observationDiffers(never, { ...read, checksState: null, reviewDecision: 'REVIEW_REQUIRED' }),
    ).toBe(false);
    // Not known at all (a reconcile round's view): not compared.
    const { checks: _checks, reviewDecision: _review, ...unknown } = known;
    expect(observationDiffers(unknown, { ...read, checksState: 'FAILURE' })).toBe(false);
  });
});
