import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type {
  BranchChangesetSpec,
  ChangesetSpec,
  ChangesetState,
  ImportChangesetSpec,
} from './changeset.js';
import { OPERATION_PRECEDENCE, type OperationType } from './operation.js';
import { planChangesetOperations, pushesToFork } from './plan.js';
import { newChangesetRow, plannerState, type ChangesetRow } from '../changeset/changeset-row.js';
import {
  evolveChangeset,
  type ChangesetEvent,
  type ChangesetEventBody,
} from '../changeset/evolve-changeset.js';

const REPO = 'github.example.com/acme/api';
const FORK = 'github.example.com/campaigns-bot/acme-api';

const spec = (overrides: Partial<BranchChangesetSpec> = {}): BranchChangesetSpec => ({
  kind: 'branch',
  repository: REPO,
  baseRef: 'main',
  headBranch: 'hello-world',
  title: 'Hello World',
  body: 'My first campaign!',
  commit: {
    message: 'Append Hello to .md files',
    author: { name: 'Ada', email: 'ada@example.com' },
  },
  diffSha256: 'a'.repeat(64),
  published: true,
  fork: false,
  autoMerge: null,
  ...overrides,
});

/** A spec that asks for auto-merge, by the reconciler or by the host's own. */
const autoMerged = spec({ autoMerge: { method: 'squash', native: false } });
const nativeMerged = spec({ autoMerge: { method: 'squash', native: true } });

const importSpec: ImportChangesetSpec = { kind: 'import', repository: REPO, externalId: '42' };

const unpublished = (overrides: Partial<ChangesetState> = {}): ChangesetState => ({
  repository: REPO,
  headBranch: 'hello-world',
  ownership: 'owned',
  publicationState: 'unpublished',
  externalState: null,
  externalId: null,
  externalNumber: null,
  lastPushed: null,
  title: null,
  body: null,
  baseRef: null,
  draft: false,
  supportsDrafts: true,
  headInFork: false,
  supportsForks: true,
  detached: false,
  archived: false,
  previousSpec: null,
  checks: null,
  reviewDecision: 'REVIEW_REQUIRED',
  mergeRefusal: null,
  supportsNativeAutoMerge: true,
  nativeAutoMergeTried: false,
  ...overrides,
});

/** A changeset that is exactly what `published` (default: `spec()`) describes. */
const publishedAs = (
  wanted: BranchChangesetSpec = spec(),
  overrides: Partial<ChangesetState> = {},
): ChangesetState => ({
  ...unpublished(),
  publicationState: wanted.published === 'draft' ? 'draft' : 'published',
  externalState: 'open',
  externalId: '7',
  externalNumber: 7,
  lastPushed: { diffSha256: wanted.diffSha256, ...wanted.commit },
  title: wanted.title,
  body: wanted.body,
  baseRef: wanted.baseRef,
  draft: wanted.published === 'draft',
  previousSpec: wanted,
  ...overrides,
});

const tracked = (overrides: Partial<ChangesetState> = {}): ChangesetState =>
  unpublished({ ownership: 'tracked', headBranch: null, ...overrides });

interface Row {
  readonly name: string;
  readonly previous: ChangesetSpec | null;
  readonly current: ChangesetSpec | null;
  readonly changeset: ChangesetState;
  readonly operations: readonly OperationType[];
}

const rows: readonly Row[] = [
  {
    name: 'Given a new changeset spec with published true, when planned, then the branch is pushed and the PR opened',
    previous: null,
    current: spec(),
    changeset: unpublished(),
    operations: ['push', 'publish'],
  },
  {
    name: 'Given a new changeset spec with published "draft", when planned, then the branch is pushed and a draft PR opened',
    previous: null,
    current: spec({ published: 'draft' }),
    changeset: unpublished(),
    operations: ['push', 'publish-draft'],
  },
  {
    name: 'Given a changeset spec with published false, when planned, then nothing happens on the code host',
    previous: null,
    current: spec({ published: false }),
    changeset: unpublished(),
    operations: [],
  },
  {
    name: 'Given a push that succeeded before the publish was interrupted, when planned again, then only the publish is left',
    previous: null,
    current: spec(),
    changeset: unpublished({
      lastPushed: { diffSha256: spec().diffSha256, ...spec().commit },
    }),
    operations: ['publish'],
  },
  {
    name: 'Given a new changeset spec with fork true, when planned, then the branch is pushed (to the fork) and the PR opened',
    previous: null,
    current: spec({ fork: true }),
    changeset: unpublished(),
    operations: ['push', 'publish'],
  },
  {
    name: 'Given a push to the repository itself before the publish was interrupted, when fork is true now, then the branch is pushed again (to the fork) before the PR is opened',
    previous: spec(),
    current: spec({ fork: true }),
    changeset: unpublished({
      lastPushed: { diffSha256: spec().diffSha256, ...spec().commit },
    }),
    operations: ['push', 'publish'],
  },
  {
    name: 'Given a changeset published from a fork, when fork becomes false, then nothing moves: its head stays in the fork',
    previous: spec({ fork: true }),
    current: spec(),
    changeset: publishedAs(spec({ fork: true }), { headInFork: true }),
    operations: [],
  },
  {
    name: 'Given a published changeset and an identical spec re-applied, when planned, then there is nothing to do',
    previous: spec(),
    current: spec(),
    changeset: publishedAs(),
    operations: [],
  },
  {
    name: 'Given a published changeset, when the diff changes, then a new commit is pushed and the PR synced',
    previous: spec(),
    current: spec({ diffSha256: 'b'.repeat(64) }),
    changeset: publishedAs(),
    operations: ['push', 'sync'],
  },
  {
    name: 'Given a published changeset, when the commit message changes, then a new commit is pushed',
    previous: spec(),
    current: spec({ commit: { ...spec().commit, message: 'Say hello' } }),
    changeset: publishedAs(),
    operations: ['push', 'sync'],
  },
  {
    name: 'Given a published changeset, when the commit author changes, then a new commit is pushed',
    previous: spec(),
    current: spec({
      commit: { ...spec().commit, author: { name: 'Bob', email: 'bob@example.com' } },
    }),
    changeset: publishedAs(),
    operations: ['push', 'sync'],
  },
  {
    name: 'Given a published changeset, when the title changes, then the PR is updated in place',
    previous: spec(),
    current: spec({ title: 'Hello, World' }),
    changeset: publishedAs(),
    operations: ['update'],
  },
  {
    name: 'Given a published changeset, when the body changes, then the PR is updated in place',
    previous: spec(),
    current: spec({ body: 'Now with more hello' }),
    changeset: publishedAs(),
    operations: ['update'],
  },
  {
    name: 'Given a published changeset, when the base ref changes, then the PR is updated in place',
    previous: spec(),
    current: spec({ baseRef: 'develop' }),
    changeset: publishedAs(),
    operations: ['update'],
  },
  {
    name: 'Given a published changeset, when the diff and the title change, then it is pushed then updated, without a separate sync',
    previous: spec(),
    current: spec({ diffSha256: 'c'.repeat(64), title: 'New title' }),
    changeset: publishedAs(),
    operations: ['push', 'update'],
  },
  {
    name: 'Given someone edited the title on the code host, when the unchanged spec is re-applied, then the spec title is restored',
    previous: spec(),
    current: spec(),
    changeset: publishedAs(spec(), { title: 'Edited by a human' }),
    operations: ['update'],
  },
  {
    name: 'Given a published changeset, when the head branch changes, then the old changeset is closed and archived',
    previous: spec(),
    current: spec({ headBranch: 'hello-world-2' }),
    changeset: publishedAs(),
    operations: ['archive', 'close'],
  },
  {
    name: 'Given a published changeset, when its repository drops out of the spec, then it is closed and archived',
    previous: spec(),
    current: null,
    changeset: publishedAs(),
    operations: ['archive', 'close'],
  },
  {
    name: 'Given an archived changeset whose close failed, when planned again, then only the close is left',
    previous: spec(),
    current: null,
    changeset: publishedAs(spec(), { archived: true }),
    operations: ['close'],
  },
  {
    name: 'Given a changeset someone already closed, when its repository drops out of the spec, then it is only archived',
    previous: spec(),
    current: null,
    changeset: publishedAs(spec(), { externalState: 'closed' }),
    operations: ['archive'],
  },
  {
    name: 'Given an unpublished changeset, when its repository drops out of the spec, then nothing happens on the code host',
    previous: spec({ published: false }),
    current: null,
    changeset: unpublished(),
    operations: [],
  },
  {
    name: 'Given a changeset closed because its repository dropped out, when the repository comes back, then it is reopened',
    previous: null,
    current: spec(),
    changeset: publishedAs(spec(), { externalState: 'closed', archived: true }),
    operations: ['reopen'],
  },
  {
    name: 'Given a changeset closed by someone else, when the spec still wants it published, then it is reopened (as Sourcegraph does)',
    previous: spec(),
    current: spec(),
    changeset: publishedAs(spec(), { externalState: 'closed' }),
    operations: ['reopen'],
  },
  {
    name: 'Given a closed changeset coming back with a new title, when planned, then it is reopened and updated',
    previous: spec(),
    current: spec({ title: 'Back again' }),
    changeset: publishedAs(spec(), { externalState: 'closed' }),
    operations: ['reopen', 'update'],
  },
  {
    name: 'Given a draft PR, when published changes from "draft" to true, then it is undrafted, not recreated',
    previous: spec({ published: 'draft' }),
    current: spec(),
    changeset: publishedAs(spec({ published: 'draft' })),
    operations: ['undraft'],
  },
  {
    name: 'Given a ready PR, when published changes from true to "draft", then nothing happens (a PR is never converted back)',
    previous: spec(),
    current: spec({ published: 'draft' }),
    changeset: publishedAs(),
    operations: [],
  },
  {
    name: 'Given a merged PR, when the spec changes everything, then nothing is planned',
    previous: spec(),
    current: spec({ title: 'x', diffSha256: 'd'.repeat(64) }),
    changeset: publishedAs(spec(), { externalState: 'merged' }),
    operations: [],
  },
  {
    name: 'Given a merged PR, when its repository drops out of the spec, then it is neither closed nor archived',
    previous: spec(),
    current: null,
    changeset: publishedAs(spec(), { externalState: 'merged' }),
    operations: [],
  },
  {
    name: 'Given a read-only changeset (archived repository), when the spec changes, then nothing is planned',
    previous: spec(),
    current: spec({ title: 'x' }),
    changeset: publishedAs(spec(), { externalState: 'read-only' }),
    operations: [],
  },
  {
    name: 'Given a changeset deleted on the code host, when the spec changes, then nothing is planned',
    previous: spec(),
    current: spec({ title: 'x' }),
    changeset: publishedAs(spec(), { externalState: 'deleted' }),
    operations: [],
  },
  {
    name: 'Given a detached changeset, when the spec changes, then nothing is planned',
    previous: spec(),
    current: spec({ title: 'x' }),
    changeset: publishedAs(spec(), { detached: true }),
    operations: [],
  },
  {
    name: 'Given an imported changeset not yet loaded, when planned, then it is imported then synced',
    previous: null,
    current: importSpec,
    changeset: tracked(),
    operations: ['import', 'sync'],
  },
  {
    name: 'Given an imported changeset already loaded, when the same import is re-applied, then nothing is planned',
    previous: importSpec,
    current: importSpec,
    changeset: tracked({ publicationState: 'published', externalState: 'open', externalId: '42' }),
    operations: [],
  },
  {
    name: 'Given an imported changeset, when it leaves the spec, then it is detached and never closed',
    previous: importSpec,
    current: null,
    changeset: tracked({ publicationState: 'published', externalState: 'open', externalId: '42' }),
    operations: ['detach'],
  },
  {
    name: 'Given auto-merge, when checks pass and the changeset is approved, then it is merged',
    previous: autoMerged,
    current: autoMerged,
    changeset: publishedAs(autoMerged, { checks: 'SUCCESS', reviewDecision: 'APPROVED' }),
    operations: ['merge'],
  },
  {
    name: 'Given auto-merge, when checks pass and the host requires no review, then it is merged',
    previous: autoMerged,
    current: autoMerged,
    changeset: publishedAs(autoMerged, { checks: 'SUCCESS', reviewDecision: null }),
    operations: ['merge'],
  },
  {
    name: 'Given auto-merge, when checks pass but no one approved yet, then nothing happens',
    previous: autoMerged,
    current: autoMerged,
    changeset: publishedAs(autoMerged, { checks: 'SUCCESS', reviewDecision: 'REVIEW_REQUIRED' }),
    operations: [],
  },
  {
    name: 'Given auto-merge, when a review requests changes, then it is not merged',
    previous: autoMerged,
    current: autoMerged,
    changeset: publishedAs(autoMerged, { checks: 'SUCCESS', reviewDecision: 'CHANGES_REQUESTED' }),
    operations: [],
  },
  {
    name: 'Given auto-merge and an approval, when checks fail, then it is not merged',
    previous: autoMerged,
    current: autoMerged,
    changeset: publishedAs(autoMerged, { checks: 'FAILURE', reviewDecision: 'APPROVED' }),
    operations: [],
  },
  {
    name: 'Given auto-merge and an approval, when checks are pending or have not reported, then it is not merged',
    previous: autoMerged,
    current: autoMerged,
    changeset: publishedAs(autoMerged, { checks: 'PENDING', reviewDecision: 'APPROVED' }),
    operations: [],
  },
  {
    name: 'Given auto-merge, when the host refused the merge and nothing changed since, then it is not tried again',
    previous: autoMerged,
    current: autoMerged,
    changeset: publishedAs(autoMerged, {
      checks: 'SUCCESS',
      reviewDecision: 'APPROVED',
      mergeRefusal: '405 Pull Request is not mergeable',
    }),
    operations: [],
  },
  {
    name: "Given native auto-merge, when checks start and it is approved, then the host's auto-merge is turned on",
    previous: nativeMerged,
    current: nativeMerged,
    changeset: publishedAs(nativeMerged, { checks: 'PENDING', reviewDecision: 'APPROVED' }),
    operations: ['enable-auto-merge'],
  },
  {
    name: 'Given native auto-merge turned on for this head, when checks still run, then nothing happens',
    previous: nativeMerged,
    current: nativeMerged,
    changeset: publishedAs(nativeMerged, {
      checks: 'PENDING',
      reviewDecision: 'APPROVED',
      nativeAutoMergeTried: true,
    }),
    operations: [],
  },
  {
    name: 'Given native auto-merge, when checks run but no one approved yet, then nothing happens',
    previous: nativeMerged,
    current: nativeMerged,
    changeset: publishedAs(nativeMerged, { checks: 'PENDING', reviewDecision: 'REVIEW_REQUIRED' }),
    operations: [],
  },
  {
    name: 'Given native auto-merge on a host without it, when checks run, then the reconciler waits to merge itself',
    previous: nativeMerged,
    current: nativeMerged,
    changeset: publishedAs(nativeMerged, {
      checks: 'PENDING',
      reviewDecision: 'APPROVED',
      supportsNativeAutoMerge: false,
    }),
    operations: [],
  },
  {
    name: 'Given native auto-merge the host refused or has not carried out, when checks pass, then the reconciler merges itself',
    previous: nativeMerged,
    current: nativeMerged,
    changeset: publishedAs(nativeMerged, {
      checks: 'SUCCESS',
      reviewDecision: 'APPROVED',
      nativeAutoMergeTried: true,
    }),
    operations: ['merge'],
  },
  {
    name: 'Given a spec without auto-merge, when checks pass and it is approved, then it is left for people to merge',
    previous: spec(),
    current: spec(),
    changeset: publishedAs(spec(), { checks: 'SUCCESS', reviewDecision: 'APPROVED' }),
    operations: [],
  },
  {
    name: "Given auto-merge, when the diff changed, then the branch is pushed and the merge waits for the new head's checks",
    previous: autoMerged,
    current: spec({ autoMerge: { method: 'squash', native: false }, diffSha256: 'e'.repeat(64) }),
    changeset: publishedAs(autoMerged, { checks: 'SUCCESS', reviewDecision: 'APPROVED' }),
    operations: ['push', 'sync'],
  },
  {
    name: 'Given auto-merge, when the base changed, then the base is updated and the merge waits for checks against it',
    previous: autoMerged,
    current: spec({ autoMerge: { method: 'squash', native: false }, baseRef: 'develop' }),
    changeset: publishedAs(autoMerged, { checks: 'SUCCESS', reviewDecision: 'APPROVED' }),
    operations: ['update'],
  },
  {
    name: 'Given auto-merge, when the title changed on a green, approved changeset, then it is updated and merged',
    previous: autoMerged,
    current: spec({ autoMerge: { method: 'squash', native: false }, title: 'Hello, World' }),
    changeset: publishedAs(autoMerged, { checks: 'SUCCESS', reviewDecision: 'APPROVED' }),
    operations: ['update', 'merge'],
  },
  {
    name: 'Given auto-merge, when a green, approved changeset was closed by hand, then it is reopened and merged',
    previous: autoMerged,
    current: autoMerged,
    changeset: publishedAs(autoMerged, {
      externalState: 'closed',
      checks: 'SUCCESS',
      reviewDecision: 'APPROVED',
    }),
    operations: ['reopen', 'merge'],
  },
];

describe('planChangesetOperations', () => {
  it.each(rows)('$name', ({ previous, current, changeset, operations }) => {
    const plan = planChangesetOperations(previous, current, changeset);

    expect(plan.error).toBeNull();
    expect(plan.operations.map((operation) => operation.type)).toEqual(operations);
    for (const operation of plan.operations) expect(operation.reason).not.toBe('');
  });

  it('Given a host without draft support, when published is "draft", then planning fails with draft-unsupported and plans nothing', () => {
    const plan = planChangesetOperations(
      null,
      spec({ published: 'draft' }),
      unpublished({ supportsDrafts: false }),
    );

    expect(plan.operations).toEqual([]);
    expect(plan.error).toMatchObject({ kind: 'draft-unsupported', repository: REPO });
    expect(plan.error?.message).toContain('set published to true or false');
  });

  it('Given a host that cannot fork, when fork is true, then planning fails with fork-unsupported and plans nothing', () => {
    const plan = planChangesetOperations(
      null,
      spec({ fork: true }),
      unpublished({ supportsForks: false }),
    );

    expect(plan.operations).toEqual([]);
    expect(plan.error).toMatchObject({ kind: 'fork-unsupported', repository: REPO });
    expect(plan.error?.message).toContain('set changesetTemplate.fork to false');
  });

  it('Given fork true, a push goes to a fork until the changeset is published, and after to wherever its head already is', () => {
    expect(pushesToFork(spec({ fork: true }), unpublished())).toBe(true);
    expect(pushesToFork(spec(), unpublished({ headInFork: true }))).toBe(false);
    expect(pushesToFork(spec(), publishedAs(spec(), { headInFork: true }))).toBe(true);
    expect(pushesToFork(spec({ fork: true }), publishedAs())).toBe(false);
  });

  it('Given a published changeset, when published becomes false, then planning fails with cannot-unpublish', () => {
    const plan = planChangesetOperations(spec(), spec({ published: false }), publishedAs());

    expect(plan.operations).toEqual([]);
    expect(plan.error).toMatchObject({ kind: 'cannot-unpublish', repository: REPO });
  });

  it('Given an owned changeset, when handed an import spec, then planning fails with spec-kind-mismatch', () => {
    const plan = planChangesetOperations(null, importSpec, publishedAs());

    expect(plan.error?.kind).toBe('spec-kind-mismatch');
  });

  it('Given a changed diff, when planned, then the reason says the diff changed in the spec', () => {
    const plan = planChangesetOperations(
      spec(),
      spec({ diffSha256: 'e'.repeat(64) }),
      publishedAs(),
    );

    expect(plan.operations[0]).toEqual({ type: 'push', reason: 'the diff changed in the spec' });
    expect(plan.delta.diffChanged).toBe(true);
  });

  it('Given a spec that changes everything at once on a closed draft, when planned, then operations follow the precedence order', () => {
    const draft = spec({ published: 'draft' });
    const plan = planChangesetOperations(
      draft,
      spec({ title: 't', diffSha256: 'f'.repeat(64) }),
      publishedAs(draft, { externalState: 'closed' }),
    );

    expect(plan.operations.map((operation) => operation.type)).toEqual([
      'push',
      'reopen',
      'undraft',
      'update',
    ]);
  });

  it.each(rows.filter((row) => row.operations.length > 0))(
    'Given the plan for [$name] was carried out, when planned again, then nothing is left to do',
    ({ previous, current, changeset }) => {
      const first = planChangesetOperations(previous, current, changeset);
      const after = applyEffects(
        changeset,
        current,
        first.operations.map((operation) => operation.type),
      );

      expect(planChangesetOperations(current, current, after).operations).toEqual([]);
    },
  );

  it('Given any spec and changeset, when planned, then operations are unique, in precedence order, and merged or read-only changesets are left alone', () => {
    fc.assert(
      fc.property(
        arbitrarySpec,
        arbitrarySpec,
        arbitraryChangeset,
        (previous, current, changeset) => {
          const plan = planChangesetOperations(previous, current, changeset);
          const types = plan.operations.map((operation) => operation.type);

          expect(new Set(types).size).toBe(types.length);
          for (let i = 1; i < types.length; i++) {
            expect(OPERATION_PRECEDENCE[types[i - 1]!]).toBeLessThanOrEqual(
              OPERATION_PRECEDENCE[types[i]!],
            );
          }
          if (changeset.externalState === 'merged' || changeset.externalState === 'read-only') {
            expect(types).toEqual([]);
          }
          if (plan.error !== null) expect(types).toEqual([]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('Given any spec and changeset, when the planned operations are applied, then planning again yields nothing', () => {
    fc.assert(
      fc.property(
        arbitrarySpec,
        arbitrarySpec,
        arbitraryChangeset,
        (previous, current, changeset) => {
          const plan = planChangesetOperations(previous, current, changeset);
          fc.pre(plan.error === null);
          const after = applyEffects(
            changeset,
            current,
            plan.operations.map((operation) => operation.type),
          );

          expect(planChangesetOperations(current, current, after).operations).toEqual([]);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

const SPEC_EVENT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
/** The head commit of a changeset the planner is given. */
const HEAD = 'c'.repeat(40);

/** The reconciler's row for a planner state (the fields evolve reads and writes). */
function rowOf(state: ChangesetState): ChangesetRow {
  return {
    ...newChangesetRow({
      changesetId: 'cs',
      campaign: 'hello-world',
      repository: state.repository,
      headBranch: state.headBranch ?? 'hello-world',
    }),
    publicationState: state.publicationState,
    externalState: state.externalState,
    number: state.externalNumber,
    lastPushed: state.lastPushed === null ? null : { ...state.lastPushed, commitSha: 'c0ffee' },
    headRepository: state.headInFork ? FORK : null,
    title: state.title,
    body: state.body,
    baseRef: state.baseRef,
    draft: state.draft,
    archived: state.archived,
    checks: state.checks,
    reviewDecision: state.reviewDecision,
    mergeRefusal: state.mergeRefusal,
    headRefOid: HEAD,
    nativeAutoMergeHead: state.nativeAutoMergeTried ? HEAD : null,
  };
}

/**
 * What carrying out `operations` records when every one succeeds, applied with the reconciler's
 * one evolve (the projection's and the worker's): the events the operation executor holds, then
 * ChangesetReconciled. Import and detach are not carried out by the worker yet: their effect on
 * ownership is applied here directly.
 */
function applyEffects(
  changeset: ChangesetState,
  current: ChangesetSpec | null,
  operations: readonly OperationType[],
): ChangesetState {
  const branch = current?.kind === 'branch' ? current : null;
  let row = rowOf(changeset);
  let state: ChangesetState = { ...changeset };
  const identity = {
    changesetId: row.changesetId,
    campaign: row.campaign,
    repository: row.repository,
    headBranch: row.headBranch,
    specEventId: SPEC_EVENT,
  };
  const record = (event: ChangesetEventBody) => {
    row = evolveChangeset(row, {
      ...event,
      event_id: SPEC_EVENT,
      stream_version: row.streamVersion + 1n,
      recorded_at: new Date(0),
      metadata: { correlation_id: 'c', causation_id: null, actor: 'ada', source: 'test' },
    } as ChangesetEvent);
  };
  for (const operation of operations) {
    switch (operation) {
      case 'push':
        record({
          type: 'ChangesetUpdated',
          data: {
            ...identity,
            operation: 'push',
            number: row.number,
            commitSha: 'd'.repeat(40),
            diffSha256: branch!.diffSha256,
            message: branch!.commit.message,
            author: { ...branch!.commit.author },
            ...(pushesToFork(branch!, changeset) ? { headRepository: FORK } : {}),
          },
        });
        break;
      case 'publish':
      case 'publish-draft':
        record({
          type: 'ChangesetPublished',
          data: {
            ...identity,
            number: 7,
            url: `https://${REPO}/pull/7`,
            nodeId: 'PR_7',
            draft: operation === 'publish-draft',
            baseRef: branch!.baseRef,
            headRefOid: 'd'.repeat(40),
            title: branch!.title,
            body: branch!.body,
          },
        });
        break;
      case 'undraft':
      case 'reopen':
        record({ type: 'ChangesetUpdated', data: { ...identity, operation, number: 7 } });
        break;
      case 'update':
        record({
          type: 'ChangesetUpdated',
          data: {
            ...identity,
            operation: 'update',
            number: 7,
            title: branch!.title,
            body: branch!.body,
            baseRef: branch!.baseRef,
          },
        });
        break;
      case 'close':
        record({
          type: 'ChangesetClosed',
          data: { ...identity, number: 7, url: `https://${REPO}/pull/7`, reason: 'gone' },
        });
        break;
      case 'detach':
        state = { ...state, detached: true };
        break;
      case 'import':
        row = { ...row, publicationState: 'published', externalState: 'open' };
        break;
      case 'merge':
        record({
          type: 'ChangesetUpdated',
          data: {
            ...identity,
            operation: 'merge',
            number: 7,
            mergeMethod: branch!.autoMerge!.method,
            mergeCommitSha: 'e'.repeat(40),
          },
        });
        break;
      case 'enable-auto-merge':
        record({
          type: 'ChangesetUpdated',
          data: {
            ...identity,
            operation: 'enable-auto-merge',
            number: 7,
            mergeMethod: branch!.autoMerge!.method,
            commitSha: row.headRefOid!,
          },
        });
        break;
      case 'archive':
      case 'sync':
      case 'comment':
        break;
    }
  }
  record({ type: 'ChangesetReconciled', data: { ...identity, operations: [...operations] } });
  const evolved = plannerState(row, null, {
    drafts: state.supportsDrafts,
    forks: state.supportsForks,
    autoMerge: state.supportsNativeAutoMerge,
  });
  return {
    ...state,
    publicationState: evolved.publicationState,
    externalState: evolved.externalState,
    externalId: evolved.externalId ?? state.externalId,
    externalNumber: evolved.externalNumber,
    lastPushed: evolved.lastPushed,
    headInFork: evolved.headInFork,
    title: evolved.title,
    body: evolved.body,
    baseRef: evolved.baseRef,
    draft: evolved.draft,
    archived: evolved.archived,
    checks: evolved.checks,
    reviewDecision: evolved.reviewDecision,
    mergeRefusal: evolved.mergeRefusal,
    nativeAutoMergeTried: evolved.nativeAutoMergeTried,
    previousSpec: current,
  };
}

const arbitraryBranchSpec: fc.Arbitrary<BranchChangesetSpec> = fc.record({
  kind: fc.constant('branch' as const),
  repository: fc.constant(REPO),
  baseRef: fc.constantFrom('main', 'develop'),
  headBranch: fc.constantFrom('hello-world', 'hello-world-2'),
  title: fc.constantFrom('Hello World', 'Hello, World'),
  body: fc.constantFrom('My first campaign!', 'Edited'),
  commit: fc.record({
    message: fc.constantFrom('Append Hello', 'Say hello'),
    author: fc.constantFrom(
      { name: 'Ada', email: 'ada@example.com' },
      { name: 'Bob', email: 'bob@example.com' },
    ),
  }),
  diffSha256: fc.constantFrom('a'.repeat(64), 'b'.repeat(64)),
  published: fc.constantFrom<boolean | 'draft'>(true, false, 'draft'),
  fork: fc.boolean(),
  autoMerge: fc.constantFrom(
    null,
    { method: 'squash' as const, native: false },
    { method: 'rebase' as const, native: true },
  ),
});

const arbitrarySpec: fc.Arbitrary<ChangesetSpec | null> = fc.oneof(
  fc.constant(null),
  fc.constant(importSpec),
  arbitraryBranchSpec,
);

const arbitraryChangeset: fc.Arbitrary<ChangesetState> = fc.record({
  repository: fc.constant(REPO),
  headBranch: fc.constantFrom('hello-world', 'hello-world-2', null),
  ownership: fc.constantFrom('owned' as const, 'tracked' as const),
  publicationState: fc.constantFrom('unpublished' as const, 'draft' as const, 'published' as const),
  externalState: fc.constantFrom(
    null,
    'open' as const,
    'closed' as const,
    'merged' as const,
    'deleted' as const,
    'read-only' as const,
  ),
  externalId: fc.constantFrom(null, '7'),
  externalNumber: fc.constantFrom(null, 7),
  lastPushed: fc.option(
    arbitraryBranchSpec.map((s) => ({ diffSha256: s.diffSha256, ...s.commit })),
  ),
  title: fc.constantFrom(null, 'Hello World', 'Hello, World'),
  body: fc.constantFrom(null, 'My first campaign!', 'Edited'),
  baseRef: fc.constantFrom(null, 'main', 'develop'),
  draft: fc.boolean(),
  supportsDrafts: fc.boolean(),
  headInFork: fc.boolean(),
  supportsForks: fc.boolean(),
  detached: fc.boolean(),
  archived: fc.boolean(),
  previousSpec: arbitrarySpec,
  checks: fc.constantFrom(null, 'SUCCESS' as const, 'FAILURE' as const, 'PENDING' as const),
  reviewDecision: fc.constantFrom(
    null,
    'APPROVED' as const,
    'CHANGES_REQUESTED' as const,
    'REVIEW_REQUIRED' as const,
  ),
  mergeRefusal: fc.constantFrom(null, '405 Pull Request is not mergeable'),
  supportsNativeAutoMerge: fc.boolean(),
  nativeAutoMergeTried: fc.boolean(),
});
