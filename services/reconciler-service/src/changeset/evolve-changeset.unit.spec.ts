import { describe, expect, it } from '@jest/globals';
import type { ChangesetSpecData } from '@campaigns/events';
import { newChangesetRow, type ChangesetRow } from './changeset-row.js';
import {
  evolveChangeset,
  recordedSpecOf,
  type ChangesetEvent,
  type ChangesetEventBody,
} from './evolve-changeset.js';
import { foldQueueChange, noQueueChange } from './queue-change.js';

const SPEC = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51';
const NEWER_SPEC = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a52';
const identity = {
  changesetId: 'cs-1',
  campaign: 'hello-world',
  repository: 'github.com/acme/api',
  headBranch: 'hello-world',
};
const at = new Date('2026-12-04T12:00:00Z');
let version = 0n;

/** An event as the store gives it back, the next in the stream. */
function event(body: ChangesetEventBody, eventId = SPEC): ChangesetEvent {
  version += 1n;
  return {
    ...body,
    event_id: eventId,
    stream_version: version,
    recorded_at: at,
    metadata: { correlation_id: 'apply-1', causation_id: null, actor: 'ada', source: 'test' },
  } as ChangesetEvent;
}

const fresh = (): ChangesetRow => newChangesetRow(identity);
const given = (...bodies: ChangesetEventBody[]) =>
  bodies.reduce((row, body) => evolveChangeset(row, event(body)), fresh());

const specData = { title: 'Hello', body: 'Body' } as unknown as ChangesetSpecData;
const computed: ChangesetEventBody = {
  type: 'ChangesetSpecComputed',
  data: { ...identity, applyId: 'apply-1', spec: specData } as never,
};
const published = (o: { draft?: boolean; body?: string | null } = {}): ChangesetEventBody => ({
  type: 'ChangesetPublished',
  data: {
    ...identity,
    specEventId: SPEC,
    number: 7,
    url: 'https://github.com/acme/api/pull/7',
    nodeId: 'PR_7',
    draft: o.draft ?? false,
    baseRef: 'main',
    headRefOid: 'a'.repeat(40),
    title: 'Hello',
    body: o.body === undefined ? 'Body' : o.body,
  },
});
const observed = (o: Record<string, unknown>): ChangesetEventBody => ({
  type: 'ChangesetObserved',
  data: {
    ...identity,
    source: 'webhook',
    deliveryId: 'd-1',
    trigger: 'pull_request.edited',
    number: 7,
    ...o,
  },
});

describe('evolveChangeset', () => {
  const importRequested: ChangesetEventBody = {
    type: 'ChangesetImportRequested',
    data: { ...identity, headBranch: '#7', applyId: 'apply-1', number: 7 },
  };
  const reconciled = (operations: string[]): ChangesetEventBody => ({
    type: 'ChangesetReconciled',
    data: { ...identity, specEventId: SPEC, operations },
  });

  it('Given nothing, when an import is requested, then the changeset is imported and its desired state the import (its number is known once read); its recorded spec names the number', () => {
    const e = event(importRequested, NEWER_SPEC);
    const row = evolveChangeset({ ...fresh(), attempts: 2, lastError: 'boom' }, e);
    expect(row).toMatchObject({
      desiredSpecEventId: NEWER_SPEC,
      imported: true,
      detached: false,
      number: null,
      publicationState: 'unpublished',
      attempts: 0,
      lastError: null,
    });
    expect(recordedSpecOf(e)).toMatchObject({ spec: null, importNumber: 7, headBranch: '#7' });
    expect(recordedSpecOf(event(computed))).toMatchObject({ importNumber: null });
  });

  it('Given an imported changeset, when the host shows it closed, then it is read (published) and closed: importing it is not planned again', () => {
    const row = given(importRequested, observed({ state: 'closed', draft: false }));
    expect(row).toMatchObject({ publicationState: 'published', externalState: 'closed' });
    const draft = given(importRequested, observed({ state: 'open', draft: true }));
    expect(draft).toMatchObject({ publicationState: 'draft', externalState: 'open' });
  });

  it('Given an imported changeset, when a reconcile detaches it, then it is detached; listed again, it is tracked again', () => {
    const detached = given(importRequested, observed({ state: 'open' }), reconciled(['detach']));
    expect(detached).toMatchObject({ detached: true, imported: true, externalState: 'open' });
    expect(evolveChangeset(detached, event(importRequested))).toMatchObject({ detached: false });
  });

  const BULK = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b01';
  const bulkClosed: ChangesetEventBody = {
    type: 'ChangesetClosed',
    data: {
      ...identity,
      specEventId: SPEC,
      number: 7,
      url: 'https://github.com/acme/api/pull/7',
      reason: 'closed by bulk operation',
      bulkOperationId: BULK,
    },
  };
  const requested = (action: 'retry' | 'publish'): ChangesetEventBody => ({
    type: 'ChangesetActionRequested',
    data: { ...identity, action, bulkOperationId: BULK },
  });

  it('Given an open changeset, when a bulk operation closes it, then it is closed and held closed; reopened on the host or by a round, it no longer is', () => {
    const held = given(computed, published(), bulkClosed);
    expect(held).toMatchObject({ externalState: 'closed', heldClosed: true });
    expect(evolveChangeset(held, event(observed({ state: 'open' })))).toMatchObject({
      heldClosed: false,
    });
    const reopened: ChangesetEventBody = {
      type: 'ChangesetUpdated',
      data: { ...identity, specEventId: SPEC, operation: 'reopen', number: 7 },
    };
    expect(evolveChangeset(held, event(reopened))).toMatchObject({
      heldClosed: false,
      externalState: 'open',
    });
    // Closed by the reconciler (its spec left): not held.
    const { bulkOperationId: _, ...byReconciler } = bulkClosed.data as { bulkOperationId: string };
    expect(
      given(computed, published(), { type: 'ChangesetClosed', data: byReconciler } as never),
    ).toMatchObject({ heldClosed: false });
  });

  it('Given a terminal failure, when a bulk retry is requested, then the failure no longer stops it and a round is due now', () => {
    const failed = {
      ...given(computed),
      attempts: 1,
      lastError: 'HTTP 403',
      terminalSpecEventId: SPEC,
    };
    const e = event(requested('retry'));
    expect(evolveChangeset(failed, e)).toMatchObject({
      attempts: 0,
      lastError: null,
      terminalSpecEventId: null,
      desiredSpecEventId: SPEC,
    });
    const change = noQueueChange();
    foldQueueChange(change, failed, e);
    expect(change.upsert).toMatchObject({ reason: 'retry requested', replace: true });
  });

  it('Given a changeset kept local, when a bulk publish is requested, then it is to be published and a round is due now', () => {
    const row = given(computed, requested('publish'));
    expect(row).toMatchObject({ publishRequested: true, publicationState: 'unpublished' });
    const change = noQueueChange();
    foldQueueChange(change, given(computed), event(requested('publish')));
    expect(change.upsert).toMatchObject({ reason: 'publish requested' });
  });

  it('Given an import requested, then the reconcile queue has it due', () => {
    const change = noQueueChange();
    foldQueueChange(change, fresh(), event(importRequested));
    expect(change.upsert).toMatchObject({ reason: 'ChangesetImportRequested' });
  });

  it('Given nothing, when a spec is computed, then it is the desired state and earlier failures are forgotten', () => {
    const failed = { ...fresh(), attempts: 3, lastError: 'boom', terminalSpecEventId: SPEC };
    const row = evolveChangeset(failed, event(computed, NEWER_SPEC));
    expect(row).toMatchObject({
      desiredSpecEventId: NEWER_SPEC,
      attempts: 0,
      lastError: null,
      terminalSpecEventId: null,
      streamVersion: version,
    });
    expect(failed.attempts).toBe(3); // the row before is left as it was
  });

  it('Given an unpublished changeset, when it is published, then the row holds what the host answered, body included', () => {
    expect(given(published({ draft: true }))).toMatchObject({
      publicationState: 'draft',
      externalState: 'open',
      number: 7,
      url: 'https://github.com/acme/api/pull/7',
      nodeId: 'PR_7',
      draft: true,
      baseRef: 'main',
      title: 'Hello',
      body: 'Body',
      headRefOid: 'a'.repeat(40),
      archived: false,
    });
  });

  it('Given a ChangesetPublished recorded before v2 (body null), when applied, then the body known before stays', () => {
    const row = evolveChangeset({ ...fresh(), body: 'Known' }, event(published({ body: null })));
    expect(row.body).toBe('Known');
  });

  it('Given a push, when applied, then what was pushed (commit, message, author) is the last push', () => {
    const row = given({
      type: 'ChangesetUpdated',
      data: {
        ...identity,
        specEventId: SPEC,
        operation: 'push',
        number: null,
        commitSha: 'b'.repeat(40),
        diffSha256: 'c'.repeat(64),
        message: 'Say hello',
        author: { name: 'Ada', email: 'ada@example.com' },
      },
    });
    expect(row.lastPushed).toEqual({
      diffSha256: 'c'.repeat(64),
      message: 'Say hello',
      author: { name: 'Ada', email: 'ada@example.com' },
      commitSha: 'b'.repeat(40),
    });
    expect(row.headRefOid).toBe('b'.repeat(40));
  });

  it('Given a push to a fork, when applied, then the row names the fork; a push without one (or recorded before forks) names none', () => {
    const push = (headRepository?: string): ChangesetEventBody => ({
      type: 'ChangesetUpdated',
      data: {
        ...identity,
        specEventId: SPEC,
        operation: 'push',
        number: null,
        commitSha: 'b'.repeat(40),
        diffSha256: 'c'.repeat(64),
        ...(headRepository === undefined ? {} : { headRepository }),
      },
    });
    const fork = 'github.com/campaigns-bot/acme-api';
    expect(given(push(fork)).headRepository).toBe(fork);
    expect(given(push(fork), published()).headRepository).toBe(fork);
    expect(given(push(fork), push()).headRepository).toBeNull();
    expect(fresh().headRepository).toBeNull();
  });

  it('Given a published changeset, when updated, undrafted, closed and reopened, then each is reflected', () => {
    const upd = (operation: 'update' | 'undraft' | 'reopen', o: object = {}) =>
      ({
        type: 'ChangesetUpdated',
        data: { ...identity, specEventId: SPEC, operation, number: 7, ...o },
      }) as ChangesetEventBody;
    const updated = given(published({ draft: true }), upd('update', { title: 'New', body: 'B2' }));
    expect(updated).toMatchObject({ title: 'New', body: 'B2', baseRef: 'main' });
    expect(given(published({ draft: true }), upd('undraft'))).toMatchObject({
      draft: false,
      publicationState: 'published',
    });
    const closed = given(published(), {
      type: 'ChangesetClosed',
      data: { ...identity, specEventId: SPEC, number: 7, url: 'u', reason: 'left the spec' },
    });
    expect(closed.externalState).toBe('closed');
    expect(evolveChangeset({ ...closed, archived: true }, event(upd('reopen')))).toMatchObject({
      externalState: 'open',
      archived: false,
    });
  });

  it('Given a desired spec, when it is reconciled (with archive), then it is the previous spec and the row is archived', () => {
    const row = evolveChangeset(
      { ...fresh(), desiredSpecEventId: SPEC, attempts: 2, lastError: 'x' },
      event({
        type: 'ChangesetReconciled',
        data: { ...identity, specEventId: SPEC, operations: ['close', 'archive'] },
      }),
    );
    expect(row).toMatchObject({
      previousSpecEventId: SPEC,
      lastReconciledSpecEventId: SPEC,
      attempts: 0,
      lastError: null,
      archived: true,
    });
  });

  it('Given a desired spec, when reconciling it fails, then attempts and error are kept; terminal ones mark the spec', () => {
    const failure = (retryable: boolean, specEventId = SPEC): ChangesetEventBody => ({
      type: 'ReconcileFailed',
      data: {
        ...identity,
        specEventId,
        operation: 'publish',
        retryable,
        attempt: 2,
        message: 'HTTP 502',
        httpStatus: 502,
        retryInMs: retryable ? 2000 : null,
      },
    });
    const desired = { ...fresh(), desiredSpecEventId: SPEC };
    expect(evolveChangeset(desired, event(failure(true)))).toMatchObject({
      attempts: 2,
      lastError: 'HTTP 502',
      terminalSpecEventId: null,
    });
    expect(evolveChangeset(desired, event(failure(false))).terminalSpecEventId).toBe(SPEC);
    // A failure for a spec that is no longer desired changes nothing.
    expect(evolveChangeset(desired, event(failure(false, NEWER_SPEC)))).toMatchObject({
      attempts: 0,
      terminalSpecEventId: null,
    });
  });

  it('Given a published changeset, when someone else pushes, then what we pushed is forgotten (unless merged)', () => {
    const pushed = {
      ...given(published()),
      lastPushed: {
        diffSha256: 'c'.repeat(64),
        message: 'm',
        author: { name: 'A', email: 'a@x' },
        commitSha: 'b'.repeat(40),
      },
    };
    const theirs = evolveChangeset(pushed, event(observed({ headRefOid: 'e'.repeat(40) })));
    expect(theirs).toMatchObject({ headRefOid: 'e'.repeat(40), lastPushed: null });
    const merged = evolveChangeset(
      pushed,
      event(observed({ headRefOid: 'e'.repeat(40), state: 'merged' })),
    );
    expect(merged.lastPushed).not.toBeNull();
    expect(merged.externalState).toBe('merged');
  });

  it('Given an unpublished changeset, when its PR is observed open (a crash before recording), then it is ours and published', () => {
    const row = given(observed({ state: 'open', draft: true, title: 'T', url: 'u' }));
    expect(row).toMatchObject({
      publicationState: 'draft',
      externalState: 'open',
      draft: true,
      title: 'T',
      url: 'u',
      number: 7,
    });
  });

  it('records the desired state of spec events only', () => {
    expect(recordedSpecOf(event(computed, NEWER_SPEC))).toMatchObject({
      specEventId: NEWER_SPEC,
      spec: specData,
      correlationId: 'apply-1',
      actor: 'ada',
      recordedAt: at,
    });
    expect(recordedSpecOf(event(published()))).toBeNull();
  });
});

describe('foldQueueChange', () => {
  const reconciled = (specEventId: string): ChangesetEventBody => ({
    type: 'ChangesetReconciled',
    data: { ...identity, specEventId, operations: [] },
  });

  it('Given a new spec, when folded, then the changeset is due at the event time', () => {
    const change = noQueueChange();
    const e = event(computed);
    foldQueueChange(change, fresh(), e);
    expect(change).toEqual({
      removed: false,
      upsert: {
        dueAt: at,
        dueVersion: e.stream_version,
        reason: 'ChangesetSpecComputed',
        replace: false,
      },
    });
  });

  it('Given the desired spec reconciled, when folded, then it leaves the queue; an older one is due again', () => {
    const done = noQueueChange();
    foldQueueChange(done, { ...fresh(), desiredSpecEventId: SPEC }, event(reconciled(SPEC)));
    expect(done).toEqual({ removed: true, upsert: null });
    const again = noQueueChange();
    foldQueueChange(again, { ...fresh(), desiredSpecEventId: NEWER_SPEC }, event(reconciled(SPEC)));
    expect(again.upsert).toMatchObject({ reason: 'newer spec', replace: true });
  });

  it('Given a retryable failure, when folded, then it is due after its backoff; a terminal one leaves the queue', () => {
    const failure = (retryable: boolean): ChangesetEventBody => ({
      type: 'ReconcileFailed',
      data: {
        ...identity,
        specEventId: SPEC,
        operation: 'push',
        retryable,
        attempt: 1,
        message: 'm',
        httpStatus: null,
        retryInMs: retryable ? 1000 : null,
      },
    });
    const desired = { ...fresh(), desiredSpecEventId: SPEC };
    const retry = noQueueChange();
    foldQueueChange(retry, desired, event(failure(true)));
    expect(retry.upsert).toMatchObject({
      dueAt: new Date(at.getTime() + 1000),
      reason: 'retry',
      replace: true,
    });
    const terminal = noQueueChange();
    foldQueueChange(terminal, desired, event(failure(false)));
    expect(terminal).toEqual({ removed: true, upsert: null });
  });

  it('Given a dequeue then a new spec in one batch, when folded, then the row is replaced, not merged', () => {
    const change = noQueueChange();
    foldQueueChange(change, { ...fresh(), desiredSpecEventId: SPEC }, event(reconciled(SPEC)));
    foldQueueChange(change, fresh(), event(computed, NEWER_SPEC));
    expect(change).toMatchObject({ removed: true, upsert: { replace: true } });
  });
});

describe('auto-merge in evolve and the queue', () => {
  const autoMergeSpec: ChangesetEventBody = {
    type: 'ChangesetSpecComputed',
    data: {
      ...identity,
      applyId: 'apply-1',
      spec: { ...specData, autoMerge: { method: 'squash' } },
    } as never,
  };
  const mergeRefused: ChangesetEventBody = {
    type: 'ReconcileFailed',
    data: {
      ...identity,
      specEventId: SPEC,
      operation: 'merge',
      retryable: false,
      attempt: 1,
      message: 'merge pull request github.com/acme/api #7: 405 Pull Request is not mergeable',
      httpStatus: 405,
      retryInMs: null,
    },
  };
  /** Folds one event into a fresh queue change from `before`. */
  const queued = (before: ChangesetRow, body: ChangesetEventBody) => {
    const change = noQueueChange();
    foldQueueChange(change, before, event(body));
    return change;
  };

  it('Given a spec with auto-merge, then the row records its method; a new PR needs its checks and review read first', () => {
    const row = given(autoMergeSpec, published());
    expect(row).toMatchObject({
      autoMerge: 'squash',
      checks: null,
      reviewDecision: 'REVIEW_REQUIRED',
    });
    expect(given(computed)).toMatchObject({ autoMerge: null });
  });

  it('Given auto-merge and green checks, when an approval is observed, then the changeset is due (mergeable); without auto-merge it is not', () => {
    const green = given(autoMergeSpec, published(), observed({ checks: 'SUCCESS' }));
    expect(queued(green, observed({ reviewDecision: 'APPROVED' })).upsert).toMatchObject({
      reason: 'mergeable',
    });
    const plain = given(computed, published(), observed({ checks: 'SUCCESS' }));
    expect(queued(plain, observed({ reviewDecision: 'APPROVED' })).upsert).toBeNull();
  });

  it('Given auto-merge and an approval, when checks fail, then nothing is due', () => {
    const approved = given(autoMergeSpec, published(), observed({ reviewDecision: 'APPROVED' }));
    expect(queued(approved, observed({ checks: 'FAILURE' })).upsert).toBeNull();
  });

  it('Given a refused merge, then only merging is blocked (no terminal spec), and nothing but a change of head, checks or review lifts it', () => {
    const ready = given(
      autoMergeSpec,
      published(),
      observed({ checks: 'SUCCESS', reviewDecision: 'APPROVED' }),
    );
    const refused = evolveChangeset(ready, event(mergeRefused));
    expect(refused).toMatchObject({
      terminalSpecEventId: null,
      mergeRefusal: mergeRefused.data.message,
    });
    // The same checks and review again: still refused, not due.
    const same = observed({ checks: 'SUCCESS', reviewDecision: 'APPROVED', title: 'Hello again' });
    expect(evolveChangeset(refused, event(same)).mergeRefusal).not.toBeNull();
    expect(queued(refused, same).upsert).toBeNull();
    // A new head: the refusal is lifted, but its checks are unknown until they report.
    const pushed = evolveChangeset(refused, event(observed({ headRefOid: 'b'.repeat(40) })));
    expect(pushed).toMatchObject({ mergeRefusal: null, checks: null });
    expect(queued(pushed, observed({ checks: 'SUCCESS' })).upsert).toMatchObject({
      reason: 'mergeable',
    });
  });

  it('Given a refused merge, when a changed spec is applied, then the refusal is lifted', () => {
    const refused = given(autoMergeSpec, published(), mergeRefused);
    expect(evolveChangeset(refused, event(autoMergeSpec, NEWER_SPEC)).mergeRefusal).toBeNull();
  });
  it("Given native auto-merge and an approval, when checks start, then it is due to turn on the host's auto-merge, once per head; a refusal leaves merging to the reconciler", () => {
    const nativeSpec: ChangesetEventBody = {
      type: 'ChangesetSpecComputed',
      data: {
        ...identity,
        applyId: 'apply-1',
        spec: { ...specData, autoMerge: { method: 'merge', native: true } },
      } as never,
    };
    const approved = given(nativeSpec, published(), observed({ reviewDecision: 'APPROVED' }));
    expect(approved).toMatchObject({ autoMerge: 'merge', autoMergeNative: true });
    expect(queued(approved, observed({ checks: 'PENDING' })).upsert).toMatchObject({
      reason: 'auto-merge can be turned on',
    });
    const running = evolveChangeset(approved, event(observed({ checks: 'PENDING' })));
    const enabled = evolveChangeset(
      running,
      event({
        type: 'ChangesetUpdated',
        data: {
          ...identity,
          specEventId: SPEC,
          operation: 'enable-auto-merge',
          number: 7,
          mergeMethod: 'merge',
          commitSha: 'a'.repeat(40),
        },
      }),
    );
    expect(enabled.nativeAutoMergeHead).toBe('a'.repeat(40));
    // Turned on for this head: another pending report does not make it due again.
    expect(queued(enabled, observed({ checks: 'PENDING', title: 'again' })).upsert).toBeNull();

    const refused = evolveChangeset(
      running,
      event({
        ...mergeRefused,
        data: { ...mergeRefused.data, operation: 'enable-auto-merge', message: 'not allowed' },
      } as ChangesetEventBody),
    );
    expect(refused).toMatchObject({
      nativeAutoMergeHead: 'a'.repeat(40),
      mergeRefusal: null,
      terminalSpecEventId: null,
    });
    // Green now: the reconciler merges itself.
    expect(queued(refused, observed({ checks: 'SUCCESS' })).upsert).toMatchObject({
      reason: 'mergeable',
    });
  });
});
