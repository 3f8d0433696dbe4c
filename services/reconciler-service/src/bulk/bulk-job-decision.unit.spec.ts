import { describe, expect, it } from '@jest/globals';
import type { BulkOperationKind } from '@campaigns/events';
import { newChangesetRow, type ChangesetRow } from '../changeset/changeset-row.js';
import { decideBulkJob, type BulkJobDecision } from './bulk-job-decision.js';

const identity = {
  changesetId: 'cs-1',
  campaign: 'hello-world',
  repository: 'github.com/acme/api',
  headBranch: 'hello-world',
};
const SPEC = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51';

const unpublished = (o: Partial<ChangesetRow> = {}): ChangesetRow => ({
  ...newChangesetRow(identity),
  desiredSpecEventId: SPEC,
  ...o,
});
const open = (o: Partial<ChangesetRow> = {}): ChangesetRow =>
  unpublished({
    publicationState: 'published',
    externalState: 'open',
    number: 7,
    headRefOid: 'a'.repeat(40),
    ...o,
  });

const decide = (
  operation: BulkOperationKind,
  row: ChangesetRow | null,
  published: boolean | 'draft' | null = true,
): BulkJobDecision => decideBulkJob(operation, { row, published });

describe('decideBulkJob', () => {
  it('Given an open pull request, when commenting, merging or closing, then the code host is asked, about its number', () => {
    for (const operation of ['comment', 'merge', 'close'] as const)
      expect(decide(operation, open())).toEqual({ kind: operation, number: 7 });
  });

  it('Given a changeset not published, when commenting, merging or closing, then it is skipped: there is no pull request', () => {
    for (const operation of ['comment', 'merge', 'close'] as const)
      expect(decide(operation, unpublished())).toEqual({
        kind: 'skip',
        message: expect.stringContaining('not published') as unknown as string,
      });
  });

  it('Given a changeset already in the wanted state, when acted on again, then it is skipped as already so', () => {
    expect(decide('close', open({ externalState: 'closed' }))).toEqual({
      kind: 'skip',
      message: 'already closed',
    });
    expect(decide('merge', open({ externalState: 'merged' }))).toEqual({
      kind: 'skip',
      message: 'already merged',
    });
    expect(decide('publish', open(), false)).toEqual({
      kind: 'skip',
      message: 'already published',
    });
  });

  it('Given a closed, merged or draft pull request, when merging, then it is skipped with what to do', () => {
    expect(decide('merge', open({ externalState: 'closed' }))).toMatchObject({ kind: 'skip' });
    expect(decide('merge', open({ draft: true }))).toEqual({
      kind: 'skip',
      message: 'a draft: mark it ready for review first',
    });
    expect(decide('close', open({ externalState: 'merged' }))).toMatchObject({ kind: 'skip' });
  });

  it('Given a closed or merged pull request, when commenting, then it is commented on all the same', () => {
    expect(decide('comment', open({ externalState: 'closed' }))).toEqual({
      kind: 'comment',
      number: 7,
    });
    expect(decide('comment', open({ externalState: 'merged' }))).toEqual({
      kind: 'comment',
      number: 7,
    });
  });

  it('Given an imported pull request, when merging or closing, then it is skipped (not the campaign’s to write to); commenting is allowed', () => {
    const imported = open({ imported: true });
    expect(decide('merge', imported)).toEqual({
      kind: 'skip',
      message: 'imported: the campaign does not merge it',
    });
    expect(decide('close', imported)).toMatchObject({ kind: 'skip' });
    expect(decide('comment', imported)).toEqual({ kind: 'comment', number: 7 });
  });

  it('Given a changeset whose spec keeps it local, when publishing, then the reconciler is asked to publish it; once asked, not again', () => {
    expect(decide('publish', unpublished(), false)).toMatchObject({
      kind: 'request',
      action: 'publish',
    });
    expect(decide('publish', unpublished({ publishRequested: true }), false)).toMatchObject({
      kind: 'skip',
    });
  });

  it('Given a changeset whose spec publishes it (true or draft), or that left the spec, when publishing, then it is refused per changeset', () => {
    expect(decide('publish', unpublished(), true)).toEqual({
      kind: 'skip',
      message: 'its spec says published: true; the reconciler publishes it',
    });
    expect(decide('publish', unpublished(), 'draft')).toMatchObject({ kind: 'skip' });
    expect(decide('publish', unpublished(), null)).toMatchObject({ kind: 'skip' });
  });

  it('Given a terminal failure, when retrying, then a new attempt is requested; a retryable failure or none is skipped', () => {
    const failed = open({ lastError: 'HTTP 422', terminalSpecEventId: SPEC, attempts: 1 });
    expect(decide('retry', failed)).toMatchObject({ kind: 'request', action: 'retry' });
    expect(decide('retry', open({ lastError: 'HTTP 502', attempts: 2 }))).toEqual({
      kind: 'skip',
      message: 'its last failure is retried on its own (retryable)',
    });
    expect(decide('retry', open())).toEqual({
      kind: 'skip',
      message: 'its last reconcile did not fail',
    });
  });

  it('Given a changeset the reconciler does not know, or a detached one, when acted on, then it is skipped', () => {
    expect(decide('comment', null)).toMatchObject({ kind: 'skip' });
    expect(decide('comment', open({ detached: true }))).toEqual({
      kind: 'skip',
      message: 'detached: the campaign no longer tracks it',
    });
  });
});
