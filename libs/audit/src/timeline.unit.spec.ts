import { describe, expect, it } from '@jest/globals';
import type { StoredEvent } from '@campaigns/events';
import {
  describe as describeEvent,
  eventJsonLine,
  filterChangeset,
  formatTimeline,
  parseChangesetFilter,
} from './timeline.js';

const APPLY_1 = '0a1b2c3d-0000-4000-8000-000000000001';
const APPLY_2 = '9f8e7d6c-0000-4000-8000-000000000002';
const REPO = 'github.com/acme/api';
const OTHER = 'github.com/acme/web';
const CS = 'c'.repeat(32);
const EX = 'e'.repeat(32);
const SHA = 'a'.repeat(64);

let position = 0;
function event(
  type: string,
  data: Record<string, unknown>,
  options: { apply?: string; actor?: string; at?: string; stream?: string } = {},
): StoredEvent {
  position++;
  return {
    global_position: BigInt(position),
    transaction_id: BigInt(1000 + position),
    event_id: `00000000-0000-7000-8000-${String(position).padStart(12, '0')}`,
    stream_id: options.stream ?? 'campaign-hello',
    stream_version: BigInt(position),
    type,
    schema_version: 1,
    data: { campaign: 'hello', ...data },
    metadata: {
      correlation_id: options.apply ?? APPLY_1,
      causation_id: null,
      actor: options.actor ?? 'alice',
      source: 'test',
    },
    recorded_at: new Date(options.at ?? `2026-01-02T03:04:${String(position).padStart(2, '0')}Z`),
    hash: SHA,
  };
}

const spec = (title: string) =>
  `name: hello\nchangesetTemplate:\n  title: ${title}\n  branch: hello\n`;
const applied = (title: string, apply: string) =>
  event(
    'SpecApplied',
    {
      applyId: apply,
      specHash: SHA,
      specText: spec(title),
      fileName: 'hello.campaign.yaml',
      actor: 'alice',
    },
    { apply },
  );
const changeset = (repository: string, headBranch = 'hello') => ({
  changesetId: CS,
  repository,
  headBranch,
  specEventId: '00000000-0000-7000-8000-000000000000',
});

describe('formatTimeline', () => {
  it('shows each event with its time, apply and actor, and each applied spec as a diff against the one before', () => {
    const events = [
      applied('Hello', APPLY_1),
      event('WorkspacesResolved', {
        applyId: APPLY_1,
        specHash: SHA,
        workspaceCount: 2,
        problems: [{ entry: 'repository: x', message: 'not found' }],
        problemsOmitted: 0,
      }),
      event(
        'ChangesetPublished',
        {
          ...changeset(REPO),
          number: 7,
          url: 'https://github.com/acme/api/pull/7',
          nodeId: 'n',
          draft: false,
          baseRef: 'main',
          headRefOid: 'f'.repeat(40),
          title: 'Hello',
        },
        { stream: `changeset-${CS}` },
      ),
      applied('Hello, World', APPLY_2),
      event(
        'ChangesetUpdated',
        { ...changeset(REPO), operation: 'update', number: 7, title: 'Hello, World', body: 'b' },
        { apply: APPLY_2, stream: `changeset-${CS}` },
      ),
    ];
    const text = formatTimeline(events, { campaign: 'hello' });
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      `Campaign hello: 5 events, 2 applies, ${events[0]!.recorded_at.toISOString()} … ${events[4]!.recorded_at.toISOString()}`,
    );
    expect(text).toContain(
      `${events[1]!.recorded_at.toISOString()}  0a1b2c3d  alice  workspaces resolved: 2 workspaces, problems: repository: x: not found\n`,
    );
    expect(text).toContain(
      `  0a1b2c3d  alice  ${REPO}@hello: published PR #7 https://github.com/acme/api/pull/7 title "Hello"\n`,
    );
    expect(text).toContain(
      `  9f8e7d6c  alice  ${REPO}@hello: update PR #7: title "Hello, World", body\n`,
    );
    // The first spec is all new; the second changes one line.
    const first = text.slice(text.indexOf('spec applied'), text.indexOf('workspaces resolved'));
    expect(first).toContain(
      '    --- /dev/null\n    +++ hello.campaign.yaml\n    @@ -0,0 +1,4 @@\n    +name: hello\n',
    );
    const second = text.slice(text.lastIndexOf('spec applied'));
    expect(second).toContain(
      [
        '    --- previous spec',
        '    +++ hello.campaign.yaml',
        '    @@ -1,4 +1,4 @@',
        '     name: hello',
        '     changesetTemplate:',
        '    -  title: Hello',
        '    +  title: Hello, World',
        '       branch: hello',
        '',
      ].join('\n'),
    );
  });

  it('diffs the first apply shown against the spec applied before the range', () => {
    const text = formatTimeline([applied('Hello, World', APPLY_2)], {
      campaign: 'hello',
      previousSpecText: spec('Hello'),
    });
    expect(text).toContain('    -  title: Hello\n    +  title: Hello, World\n');
    expect(text).not.toContain('+name: hello');
  });

  it('says so when there are no events', () => {
    expect(formatTimeline([], { campaign: 'hello' })).toBe(
      'Campaign hello: no events in this range.\n',
    );
  });
});

describe('describe', () => {
  it('says what each kind of event did, in one line', () => {
    const workspace = {
      repository: REPO,
      branch: 'main',
      baseRevision: '1'.repeat(40),
      path: '',
      searchResultPaths: [],
    };
    const files = { modified: ['README.md'], added: ['NEW.md'], deleted: [], renamed: [] };
    expect(
      describeEvent(
        event('ChangesetUpdated', {
          ...changeset(REPO),
          operation: 'merge',
          number: 7,
          mergeMethod: 'squash',
          mergeCommitSha: 'a'.repeat(40),
        }),
      ),
    ).toBe(`${REPO}@hello: merge PR #7: method squash, merge commit aaaaaaaaaa`);
    expect(
      describeEvent(
        event('PatchComputed', {
          executionId: EX,
          workspace,
          empty: false,
          files,
          cached: true,
          steps: [],
        }),
      ),
    ).toBe(
      `${REPO}: patch computed, 2 files changed (1 modified, 1 added, 0 deleted, 0 renamed), cached`,
    );
    expect(
      describeEvent(
        event('ExecutionFailed', {
          executionId: EX,
          repository: REPO,
          path: '',
          reason: 'command-failed',
          stepIndex: 0,
          exitCode: 1,
          message: 'step 1 exited with 1',
          stderrTail: 'a\nb\n\nsomething broke\nreally\n',
        }),
      ),
    ).toBe(
      `${REPO}: execution failed (command-failed, step 1, exit code 1): step 1 exited with 1; stderr: b ⏎ something broke ⏎ really`,
    );
    expect(
      describeEvent(
        event('ChangesetRenderFailed', {
          executionId: EX,
          repository: REPO,
          path: 'svc/api',
          message: 'changesetTemplate.branch: "hello world" is not a valid branch name',
        }),
      ),
    ).toBe(
      `${REPO} (svc/api): changeset template failed to render: changesetTemplate.branch: "hello world" is not a valid branch name`,
    );
    expect(
      describeEvent(
        event('ReconcileFailed', {
          ...changeset(REPO),
          operation: 'push',
          retryable: true,
          attempt: 2,
          message: 'server error',
          httpStatus: 502,
          retryInMs: 4000,
        }),
      ),
    ).toBe(
      `${REPO}@hello: push failed (attempt 2, retryable, retry in 4000 ms, HTTP 502): server error`,
    );
    expect(
      describeEvent(
        event('ChangesetObserved', {
          ...changeset(REPO),
          source: 'webhook',
          deliveryId: 'd-1',
          trigger: 'pull_request.closed',
          number: 7,
          state: 'closed',
          sender: 'bob',
        }),
      ),
    ).toBe(
      `${REPO}@hello: observed PR #7 via webhook pull_request.closed (delivery d-1) by bob: state closed`,
    );
    expect(
      describeEvent(
        event('ChangesetClosed', {
          ...changeset(REPO),
          number: 7,
          url: 'u',
          reason: 'repository-left-spec',
        }),
      ),
    ).toBe(`${REPO}@hello: closed PR #7 u (repository-left-spec)`);
    expect(
      describeEvent(event('ChangesetReconciled', { ...changeset(REPO), operations: [] })),
    ).toBe(`${REPO}@hello: reconciled (nothing to do)`);
    expect(describeEvent(event('SomethingNew', {}, { stream: 'other-1' }))).toMatch(
      /^SomethingNew on other-1 v\d+$/,
    );
  });

  it('says what a bulk operation was asked and what it did to each changeset', () => {
    const operationId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51';
    expect(
      describeEvent(
        event('BulkOperationRequested', {
          operationId,
          campaign: 'hello',
          operation: 'comment',
          message: 'Please rebase',
          filter: { state: 'open', checks: 'failed' },
          actor: 'ada',
          changesetCount: 2,
        }),
      ),
    ).toBe(
      `bulk comment requested on 2 changesets (state open, checks failed), operation ${operationId}`,
    );
    expect(
      describeEvent(
        event('BulkChangesetProcessed', {
          operationId,
          campaign: 'hello',
          changesetId: CS,
          repository: REPO,
          headBranch: 'hello',
          number: 7,
          result: 'skipped',
          message: 'already closed',
        }),
      ),
    ).toBe(`${REPO}@hello: bulk operation 0190a1b2 skipped: already closed`);
    expect(
      describeEvent(
        event('ChangesetActionRequested', {
          changesetId: CS,
          campaign: 'hello',
          repository: REPO,
          headBranch: 'hello',
          action: 'retry',
          bulkOperationId: operationId,
        }),
      ),
    ).toBe(`${REPO}@hello: retry requested by bulk operation 0190a1b2`);
  });
});

describe('filterChangeset', () => {
  const events = [
    applied('Hello', APPLY_1),
    event('WorkspacesResolved', {
      applyId: APPLY_1,
      workspaceCount: 0,
      problems: [],
      problemsOmitted: 0,
    }),
    event('ExecutionQueued', { executionId: EX, workspace: { repository: REPO } }),
    event('ExecutionQueued', { executionId: EX, workspace: { repository: OTHER } }),
    event('ChangesetReconciled', { ...changeset(REPO), operations: [] }),
    event('ChangesetReconciled', { ...changeset(REPO, 'other-branch'), operations: [] }),
    event('ChangesetReconciled', { ...changeset(OTHER), operations: [] }),
  ];
  const types = (list: StoredEvent[]) =>
    list.map((e) => `${e.type}:${(e.data as { headBranch?: string }).headBranch ?? ''}`);

  it("keeps the applies and one repository's events", () => {
    expect(types(filterChangeset(events, { repository: REPO }))).toEqual([
      'SpecApplied:',
      'ExecutionQueued:',
      'ChangesetReconciled:hello',
      'ChangesetReconciled:other-branch',
    ]);
  });

  it('keeps one head branch of it', () => {
    expect(types(filterChangeset(events, { repository: REPO, headBranch: 'hello' }))).toEqual([
      'SpecApplied:',
      'ExecutionQueued:',
      'ChangesetReconciled:hello',
    ]);
  });
});

describe('parseChangesetFilter', () => {
  it('reads HOST/OWNER/NAME[@BRANCH]', () => {
    expect(parseChangesetFilter(REPO)).toEqual({ repository: REPO });
    expect(parseChangesetFilter(`${REPO}@feature/x`)).toEqual({
      repository: REPO,
      headBranch: 'feature/x',
    });
    expect(parseChangesetFilter('acme/api')).toBeNull();
    expect(parseChangesetFilter(`${REPO}@`)).toBeNull();
    expect(parseChangesetFilter('github.com//api')).toBeNull();
  });
});

describe('eventJsonLine', () => {
  it('is one line of JSON with the stored fields', () => {
    const e = event('ChangesetReconciled', { ...changeset(REPO), operations: ['push'] });
    const line = eventJsonLine(e);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      global_position: Number(e.global_position),
      recorded_at: e.recorded_at.toISOString(),
      stream: e.stream_id,
      version: Number(e.stream_version),
      type: 'ChangesetReconciled',
      event_id: e.event_id,
      schema_version: 1,
      data: e.data,
      metadata: e.metadata,
      hash: SHA,
    });
  });
});
