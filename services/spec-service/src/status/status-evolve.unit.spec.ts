import { describe, expect, it } from '@jest/globals';
import {
  changesetStream,
  deterministicEventId,
  executionStream,
  type StoredEvent,
} from '@campaigns/events';
import {
  evolveChangeset,
  evolveExecution,
  IMPORTED,
  Rows,
  type StatusChangesetRow,
  type StatusExecutionRow,
} from './status-evolve.js';

// Given a batch's rows, when one event is evolved into them, then these rows (and only the rows
// it touched are written back).

const EXECUTION = 'e'.repeat(32);
const CHANGESET = 'c'.repeat(32);
const APPLY = '11111111-1111-4111-8111-111111111111';

let n = 0;
function event(type: string, stream: string, data: Record<string, unknown>): StoredEvent {
  n += 1;
  return {
    global_position: BigInt(n),
    transaction_id: BigInt(n),
    event_id: deterministicEventId('status', String(n)),
    stream_id: stream,
    stream_version: BigInt(n),
    type,
    schema_version: 1,
    data,
    metadata: { correlation_id: APPLY, causation_id: null, actor: 'alice', source: 'test' },
    recorded_at: new Date(n * 1000),
    hash: '',
  };
}

const executionEvent = (type: string, data: Record<string, unknown> = {}) =>
  event(type, executionStream(EXECUTION), { executionId: EXECUTION, ...data });
const changesetEvent = (type: string, data: Record<string, unknown> = {}) =>
  event(type, changesetStream(CHANGESET), { changesetId: CHANGESET, ...data });

function queuedRow(o: Partial<StatusExecutionRow> = {}): StatusExecutionRow {
  return {
    execution_id: EXECUTION,
    campaign: 'hello',
    apply_id: APPLY,
    repository: 'github.com/acme/a',
    branch: 'main',
    path: '',
    state: 'queued',
    message: null,
    stderr_tail: null,
    updated_at: new Date(0),
    ...o,
  };
}

function changesetRow(o: Partial<StatusChangesetRow> = {}): StatusChangesetRow {
  return {
    changeset_id: CHANGESET,
    campaign: 'hello',
    repository: 'github.com/acme/a',
    head_branch: 'hello-world',
    workspace_path: null,
    wanted: true,
    published: 'true',
    spec_event_id: 'spec-1',
    reconciled_spec_event_id: null,
    host_state: null,
    draft: false,
    checks: null,
    review: null,
    url: null,
    number: null,
    last_error: null,
    error_terminal: false,
    scheduled_for: null,
    title: 'Hello',
    base_branch: 'main',
    files_changed: 3,
    diff_sha256: 'd'.repeat(64),
    updated_at: new Date(0),
    ...o,
  };
}

/** Evolves `e` into rows holding `given` (if any); the rows written back. */
function evolvedExecution(given: StatusExecutionRow | undefined, e: StoredEvent) {
  const rows = new Rows<StatusExecutionRow>(given ? [[EXECUTION, { ...given }]] : []);
  evolveExecution(rows, e);
  return rows.written();
}
function evolvedChangeset(given: StatusChangesetRow | undefined, e: StoredEvent) {
  const rows = new Rows<StatusChangesetRow>(given ? [[CHANGESET, { ...given }]] : []);
  evolveChangeset(rows, e);
  return rows.written();
}

describe('evolveExecution', () => {
  it('ExecutionQueued creates the row, queued; a second one changes nothing', () => {
    const e = executionEvent('ExecutionQueued', {
      campaign: 'hello',
      applyId: APPLY,
      workspace: { repository: 'github.com/acme/a', branch: 'main', path: '' },
    });
    expect(evolvedExecution(undefined, e)).toEqual([queuedRow({ updated_at: e.recorded_at })]);
    expect(evolvedExecution(queuedRow({ state: 'running' }), e)).toEqual([]);
  });

  it('ExecutionStarted: running, unless a result is already recorded', () => {
    const e = executionEvent('ExecutionStarted');
    expect(evolvedExecution(queuedRow(), e)).toEqual([
      queuedRow({ state: 'running', updated_at: e.recorded_at }),
    ]);
    for (const state of ['succeeded', 'empty', 'failed'] as const)
      expect(evolvedExecution(queuedRow({ state }), e)).toEqual([]);
  });

  it.each<[boolean, StatusExecutionRow['state']]>([
    [false, 'succeeded'],
    [true, 'empty'],
  ])('PatchComputed (empty: %s): %s, an earlier failure cleared', (empty, state) => {
    const e = executionEvent('PatchComputed', { empty });
    const failed = queuedRow({ state: 'failed', message: 'm', stderr_tail: 't' });
    expect(evolvedExecution(failed, e)).toEqual([queuedRow({ state, updated_at: e.recorded_at })]);
  });

  it('ChangesetRenderFailed: failed, saying rendering failed', () => {
    const e = executionEvent('ChangesetRenderFailed', { message: 'no title' });
    expect(evolvedExecution(queuedRow({ state: 'succeeded' }), e)).toEqual([
      queuedRow({
        state: 'failed',
        message: 'rendering the changeset template failed: no title',
        updated_at: e.recorded_at,
      }),
    ]);
  });

  it.each([
    ['exit 1', 'exit 1'],
    ['', null],
  ])('ExecutionFailed (stderr tail %j): failed with its message', (stderrTail, shown) => {
    const e = executionEvent('ExecutionFailed', { message: 'step 1 failed', stderrTail });
    expect(evolvedExecution(queuedRow({ state: 'running' }), e)).toEqual([
      queuedRow({
        state: 'failed',
        message: 'step 1 failed',
        stderr_tail: shown,
        updated_at: e.recorded_at,
      }),
    ]);
  });

  it('an event about an execution not queued yet does nothing', () => {
    expect(evolvedExecution(undefined, executionEvent('ExecutionStarted'))).toEqual([]);
  });
});

describe('evolveChangeset', () => {
  const computed = (published: unknown = true, path?: string) =>
    changesetEvent('ChangesetSpecComputed', {
      campaign: 'hello',
      repository: 'github.com/acme/a',
      headBranch: 'hello-world',
      ...(path === undefined ? {} : { path }),
      spec: {
        published,
        title: 'Hello',
        baseRef: 'main',
        files: { modified: ['README.md'], added: ['a', 'b'], deleted: [], renamed: [] },
        diff: { sha256: 'd'.repeat(64), size: 10 },
      },
    });

  it('ChangesetSpecComputed creates the row, wanted, with its spec event', () => {
    const e = computed('draft');
    expect(evolvedChangeset(undefined, e)).toEqual([
      changesetRow({ published: 'draft', spec_event_id: e.event_id, updated_at: e.recorded_at }),
    ]);
  });

  it('ChangesetSpecComputed records its workspace path; one recorded before paths were carried leaves it unknown', () => {
    const e = computed(true, 'packages/web');
    expect(evolvedChangeset(undefined, e)).toEqual([
      changesetRow({
        workspace_path: 'packages/web',
        spec_event_id: e.event_id,
        updated_at: e.recorded_at,
      }),
    ]);
    const older = computed(true);
    expect(evolvedChangeset(changesetRow({ workspace_path: 'packages/web' }), older)).toEqual([
      changesetRow({
        workspace_path: 'packages/web',
        spec_event_id: older.event_id,
        updated_at: older.recorded_at,
      }),
    ]);
  });

  it('ChangesetSpecComputed over an existing row keeps what the code host said, clears the old error', () => {
    const given = changesetRow({
      wanted: false,
      host_state: 'open',
      number: 7,
      url: 'u',
      last_error: 'boom',
      error_terminal: true,
    });
    const e = computed(false);
    expect(evolvedChangeset(given, e)).toEqual([
      {
        ...given,
        wanted: true,
        published: 'false',
        spec_event_id: e.event_id,
        last_error: null,
        error_terminal: false,
        updated_at: e.recorded_at,
      },
    ]);
  });

  it('ChangesetImportRequested creates the row, wanted, imported, named #NUMBER; over a detached row it keeps what the code host said', () => {
    const e = changesetEvent('ChangesetImportRequested', {
      campaign: 'hello',
      repository: 'github.com/acme/a',
      headBranch: '#7',
      number: 7,
    });
    expect(evolvedChangeset(undefined, e)).toEqual([
      changesetRow({
        head_branch: '#7',
        workspace_path: null,
        published: IMPORTED,
        spec_event_id: e.event_id,
        // Not rendered by the campaign: no title or diff of its own.
        title: null,
        base_branch: null,
        files_changed: null,
        diff_sha256: null,
        updated_at: e.recorded_at,
      }),
    ]);
    const detached = changesetRow({
      head_branch: '#7',
      wanted: false,
      host_state: 'open',
      number: 7,
    });
    expect(evolvedChangeset(detached, e)).toEqual([
      {
        ...detached,
        workspace_path: null,
        wanted: true,
        published: IMPORTED,
        spec_event_id: e.event_id,
        title: null,
        base_branch: null,
        files_changed: null,
        diff_sha256: null,
        updated_at: e.recorded_at,
      },
    ]);
  });

  it('ChangesetSpecRemoved: no longer wanted', () => {
    const e = changesetEvent('ChangesetSpecRemoved');
    expect(evolvedChangeset(changesetRow({ last_error: 'x' }), e)).toEqual([
      changesetRow({ wanted: false, spec_event_id: e.event_id, updated_at: e.recorded_at }),
    ]);
  });

  it('ChangesetPublished: open or draft, with its number and URL', () => {
    const e = changesetEvent('ChangesetPublished', { draft: true, number: 3, url: 'u3' });
    expect(evolvedChangeset(changesetRow(), e)).toEqual([
      changesetRow({
        host_state: 'draft',
        draft: true,
        number: 3,
        url: 'u3',
        updated_at: e.recorded_at,
      }),
    ]);
  });

  it.each([
    [
      'undraft',
      changesetRow({ draft: true, host_state: 'draft' }),
      { draft: false, host_state: 'open' },
    ],
    [
      'convert-to-draft',
      changesetRow({ host_state: 'open' }),
      { draft: true, host_state: 'draft' },
    ],
    ['reopen', changesetRow({ draft: true, host_state: 'closed' }), { host_state: 'draft' }],
    ['push', changesetRow({ host_state: 'open' }), {}],
    [
      'merge',
      changesetRow({ host_state: 'open', last_error: 'not mergeable', error_terminal: true }),
      { host_state: 'merged', last_error: null, error_terminal: false },
    ],
  ])('ChangesetUpdated (%s)', (operation, given, then) => {
    const e = changesetEvent('ChangesetUpdated', { operation, number: 9 });
    expect(evolvedChangeset(given, e)).toEqual([
      { ...given, ...then, number: 9, updated_at: e.recorded_at },
    ]);
  });

  it('ChangesetUpdated without a number keeps the one known', () => {
    const e = changesetEvent('ChangesetUpdated', { operation: 'update', number: null });
    expect(evolvedChangeset(changesetRow({ number: 4 }), e)).toEqual([
      changesetRow({ number: 4, updated_at: e.recorded_at }),
    ]);
  });

  it('ChangesetClosed: closed', () => {
    const e = changesetEvent('ChangesetClosed', { number: 5, url: 'u5' });
    expect(evolvedChangeset(changesetRow({ host_state: 'open' }), e)).toEqual([
      changesetRow({ host_state: 'closed', number: 5, url: 'u5', updated_at: e.recorded_at }),
    ]);
  });

  it('ChangesetObserved: what the code host shows; an open draft shows as draft', () => {
    const e = changesetEvent('ChangesetObserved', {
      number: 6,
      url: 'u6',
      state: 'open',
      draft: true,
      checks: 'PENDING',
      reviewDecision: 'APPROVED',
    });
    expect(evolvedChangeset(changesetRow(), e)).toEqual([
      changesetRow({
        number: 6,
        url: 'u6',
        host_state: 'draft',
        draft: true,
        checks: 'PENDING',
        review: 'APPROVED',
        updated_at: e.recorded_at,
      }),
    ]);
    const partial = changesetEvent('ChangesetObserved', { number: 6, state: 'merged' });
    expect(evolvedChangeset(changesetRow({ url: 'u', checks: 'SUCCESS' }), partial)).toEqual([
      changesetRow({
        url: 'u',
        checks: 'SUCCESS',
        number: 6,
        host_state: 'merged',
        updated_at: partial.recorded_at,
      }),
    ]);
  });

  it('ReconcileFailed: shown when it acted on the current desired state only', () => {
    const e = changesetEvent('ReconcileFailed', {
      specEventId: 'spec-1',
      message: 'forbidden',
      retryable: false,
    });
    expect(evolvedChangeset(changesetRow(), e)).toEqual([
      changesetRow({ last_error: 'forbidden', error_terminal: true, updated_at: e.recorded_at }),
    ]);
    // The host refusing its own auto-merge is no terminal error: the reconciler merges itself.
    const native = changesetEvent('ReconcileFailed', {
      specEventId: 'spec-1',
      operation: 'enable-auto-merge',
      message: 'not allowed',
      retryable: false,
    });
    expect(evolvedChangeset(changesetRow(), native)).toEqual([
      changesetRow({ last_error: 'not allowed', updated_at: native.recorded_at }),
    ]);
    const old = changesetEvent('ReconcileFailed', {
      specEventId: 'spec-0',
      message: 'x',
      retryable: true,
    });
    expect(evolvedChangeset(changesetRow(), old)).toEqual([changesetRow()]);
  });

  it('ChangesetReconciled: converged on the current desired state only, its error cleared', () => {
    const e = changesetEvent('ChangesetReconciled', { specEventId: 'spec-1' });
    expect(evolvedChangeset(changesetRow({ last_error: 'x', error_terminal: true }), e)).toEqual([
      changesetRow({ reconciled_spec_event_id: 'spec-1', updated_at: e.recorded_at }),
    ]);
    const old = changesetEvent('ChangesetReconciled', { specEventId: 'spec-0' });
    expect(evolvedChangeset(changesetRow(), old)).toEqual([changesetRow()]);
  });

  it('an event about a changeset not computed yet does nothing', () => {
    expect(
      evolvedChangeset(undefined, changesetEvent('ChangesetClosed', { number: 1, url: 'u' })),
    ).toEqual([]);
  });
});
