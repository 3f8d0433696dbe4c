import { describe, expect, it } from '@jest/globals';
import { parseCampaignSpec, type CampaignSpec, type StepResults } from '@campaigns/campaign-spec';
import {
  campaignStream,
  changesetId,
  changesetStream,
  deterministicEventId,
  executionId,
  executionStream,
  importedChangesetId,
  sha256Hex,
  type ChangesetSpecData,
  type EventData,
  type PatchComputed,
  type SpecApplied,
  type StoredEvent,
} from '@campaigns/events';
import { testWorkspace } from '../test-support/fixed-resolver.js';
import { decide, metadataFor, type Decision, type Resolved } from './decide.js';
import { DesiredState, type ChangesetRow } from './desired-state.js';
import { planExecutions } from './plan-executions.js';
import { DEFAULT_COMMIT_AUTHOR } from './render-patch.js';

// Given the rows (built by evolving the transitions earlier decisions returned), when one event
// is decided with what the handler resolved for it, then these events, row changes and blobs.

const CAMPAIGN = 'hello';
const A = 'github.com/acme/a';
const B = 'github.com/acme/b';
const APPLY_1 = '11111111-1111-4111-8111-111111111111';
const APPLY_2 = '22222222-2222-4222-8222-222222222222';
const SPEC_TEXT = `name: hello
steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Hello \${{ repository.name }}
  branch: hello-world
  commit:
    message: Say hello
`;
const SPEC: CampaignSpec = parseCampaignSpec(SPEC_TEXT, 'hello.campaign.yaml').spec!;

let position = 0n;
function stored<T>(type: string, stream: string, version: bigint, data: T): StoredEvent<T> {
  position += 1n;
  return {
    global_position: position,
    transaction_id: position,
    event_id: deterministicEventId('test', String(position)),
    stream_id: stream,
    stream_version: version,
    type,
    schema_version: 1,
    data,
    metadata: { correlation_id: 'c', causation_id: null, actor: 'alice', source: 'test' },
    recorded_at: new Date(0),
    hash: '',
  };
}

function specApplied(applyId: string, version: bigint): StoredEvent<EventData<typeof SpecApplied>> {
  return stored('SpecApplied', campaignStream(CAMPAIGN), version, {
    campaign: CAMPAIGN,
    applyId,
    specHash: sha256Hex(SPEC_TEXT),
    specText: SPEC_TEXT,
    fileName: 'hello.campaign.yaml',
    actor: 'alice',
  });
}

const DIFF = `diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n x\n+Hello\n`;

/** A PatchComputed of the workspace in `repository` and its step results blob. */
function patchComputed(
  applyId: string,
  repository: string,
  o: { empty?: boolean; path?: string; branch?: string } = {},
) {
  const workspace = { ...testWorkspace(repository, o.path ?? ''), branch: o.branch ?? 'main' };
  const files = o.empty
    ? { modified: [], added: [], deleted: [], renamed: [] }
    : { modified: ['README.md'], added: [], deleted: [], renamed: [] };
  const results: StepResults = {
    files,
    fileDiffs: o.empty ? [] : [{ path: 'README.md', patch: DIFF }],
    outputs: {},
    steps: [],
  };
  const resultsBlob = Buffer.from(JSON.stringify(results));
  const id = executionId(applyId, workspace);
  const event = stored<EventData<typeof PatchComputed>>('PatchComputed', executionStream(id), 3n, {
    executionId: id,
    campaign: CAMPAIGN,
    applyId,
    workspace,
    empty: o.empty ?? false,
    diff: o.empty ? null : { sha256: sha256Hex(DIFF), size: Buffer.byteLength(DIFF) },
    results: { sha256: sha256Hex(resultsBlob), size: resultsBlob.length },
    files,
    steps: [],
    cached: false,
  });
  return { event, resultsBlob };
}

/** Rows after these decisions were recorded. */
function given(...decisions: Decision[]): DesiredState {
  const state = new DesiredState();
  for (const d of decisions) for (const c of d.changes) state.evolve(c);
  return state;
}

/** The rows once SpecApplied of `applyId` (the campaign's current) was decided as resolved. */
function appliedState(applyId = APPLY_1, version = 1n): DesiredState {
  const state = new DesiredState();
  state.rememberWanted(CAMPAIGN, []);
  return given(
    decide(state, specApplied(applyId, version), {
      later: [],
      resolution: resolvedTo([A]),
    }),
  );
}

function resolvedTo(repositories: string[]) {
  return {
    outcome: 'resolved' as const,
    plan: planExecutions(APPLY_1, {
      workspaces: repositories.map((r) => testWorkspace(r)),
      problems: [],
      imports: [],
    }),
  };
}

function recordedChangeset(repository: string, spec: ChangesetSpecData | null): ChangesetRow {
  return {
    changeset_id: changesetId(CAMPAIGN, repository, 'hello-world'),
    campaign: CAMPAIGN,
    repository,
    head_branch: 'hello-world',
    workspace_branch: 'main',
    workspace_path: '',
    removed: false,
    spec,
    last_event_id: '00000000-0000-4000-8000-000000000000',
    import_number: null,
  };
}

describe('decide: SpecApplied', () => {
  it('the latest, resolved: WorkspacesResolved and one ExecutionQueued per workspace, the application recorded and its executions queued', () => {
    // Given no rows, the campaign's wanted changesets read (none).
    const state = new DesiredState();
    state.rememberWanted(CAMPAIGN, []);
    const e = specApplied(APPLY_1, 1n);
    const plan = planExecutions(APPLY_1, {
      workspaces: [testWorkspace(A), testWorkspace(B)],
      problems: [{ entry: 'repository: github.com/acme/z', message: 'not found' }],
      imports: [],
    });

    // When it is decided with nothing after it in its stream.
    const decision = decide(state, e, { later: [], resolution: { outcome: 'resolved', plan } });

    // Then its outcome, with ids derived from the SpecApplied and metadata naming it.
    const metadata = metadataFor(APPLY_1, e.event_id, 'alice');
    expect(metadata).toEqual({
      correlation_id: APPLY_1,
      causation_id: e.event_id,
      actor: 'alice',
      source: 'spec-service',
    });
    const outcome = decision.outcome!;
    expect(outcome).toMatchObject({ kind: 'resolved', stream: campaignStream(CAMPAIGN), metadata });
    expect(outcome.event).toEqual({
      event_id: deterministicEventId(e.event_id, 'WorkspacesResolved'),
      type: 'WorkspacesResolved',
      data: {
        campaign: CAMPAIGN,
        applyId: APPLY_1,
        specHash: sha256Hex(SPEC_TEXT),
        workspaceCount: 2,
        problems: [{ entry: 'repository: github.com/acme/z', message: 'not found' }],
        problemsOmitted: 0,
      },
    });
    if (outcome.kind !== 'resolved') throw new Error('resolved expected');
    const ids = [A, B].map((r) => executionId(APPLY_1, testWorkspace(r)));
    expect(outcome.queued.length).toBe(2);
    expect(outcome.queued.slice(0, 2)).toEqual(
      [A, B].map((r, i) => ({
        stream: executionStream(ids[i]!),
        expected: 'any',
        event: {
          event_id: deterministicEventId(e.event_id, 'ExecutionQueued', ids[i]!),
          type: 'ExecutionQueued',
          data: {
            executionId: ids[i],
            campaign: CAMPAIGN,
            applyId: APPLY_1,
            specHash: sha256Hex(SPEC_TEXT),
            workspace: testWorkspace(r),
          },
        },
      })),
    );
    expect(outcome.queued.slice(1, 2).map((q) => q.stream)).toEqual([executionStream(ids[1]!)]);
    expect(decision.appends).toEqual([]);
    expect(decision.newBlobs).toEqual([]);
    expect(decision.changes).toEqual([
      {
        kind: 'applied',
        apply: {
          apply_id: APPLY_1,
          campaign: CAMPAIGN,
          spec_hash: sha256Hex(SPEC_TEXT),
          spec_text: SPEC_TEXT,
          file_name: 'hello.campaign.yaml',
          actor: 'alice',
          spec_event_id: e.event_id,
        },
        streamVersion: 1n,
      },
      { kind: 'queued', campaign: CAMPAIGN, applyId: APPLY_1, executionIds: ids },
    ]);

    // And evolved, the application is current and its executions wait for their patches.
    const after = given(decision);
    expect(after.currentApplication(CAMPAIGN)).toBe(APPLY_1);
    expect(after.execution(ids[0]!)).toEqual({
      execution_id: ids[0],
      campaign: CAMPAIGN,
      apply_id: APPLY_1,
      handled: false,
      render_error: null,
    });
  });

  it('the latest, resolved without a repository that had a changeset: ChangesetSpecRemoved (repository-left-spec) after the outcome', () => {
    // Given wanted changesets in A and B, and one in C already removed.
    const state = new DesiredState();
    const inA = recordedChangeset(A, null);
    const inB = recordedChangeset(B, null);
    const gone = { ...recordedChangeset('github.com/acme/c', null), removed: true };
    state.rememberWanted(CAMPAIGN, [inA, inB, gone]);
    const e = specApplied(APPLY_2, 4n);

    // When the new application resolves to A only.
    const decision = decide(state, e, { later: [], resolution: resolvedTo([A]) });

    // Then B's changeset is removed, with the application's metadata.
    const removedId = deterministicEventId(e.event_id, 'ChangesetSpecRemoved', inB.changeset_id);
    expect(decision.outcome?.kind).toBe('resolved');
    expect(decision.appends).toEqual([
      {
        stream: changesetStream(inB.changeset_id),
        expected: 'any',
        event: {
          event_id: removedId,
          type: 'ChangesetSpecRemoved',
          data: {
            changesetId: inB.changeset_id,
            campaign: CAMPAIGN,
            repository: B,
            headBranch: 'hello-world',
            applyId: APPLY_2,
            reason: 'repository-left-spec',
          },
          metadata: metadataFor(APPLY_2, e.event_id, 'alice'),
        },
      },
    ]);
    expect(decision.changes.at(-1)).toEqual({
      kind: 'changeset',
      row: { ...inB, removed: true, last_event_id: removedId },
    });
  });

  it('the latest, with importChangesets: ChangesetImportRequested for each pull request not tracked yet, after the outcome; the workspaces still run', () => {
    // Given #7 of A tracked already.
    const state = new DesiredState();
    const tracked: ChangesetRow = {
      ...recordedChangeset(A, null),
      changeset_id: importedChangesetId(CAMPAIGN, A, 7),
      head_branch: '#7',
      workspace_branch: null,
      import_number: 7,
    };
    state.rememberWanted(CAMPAIGN, [tracked]);
    const e = specApplied(APPLY_2, 4n);

    // When the application lists #7 and #9 of A.
    const decision = decide(state, e, {
      later: [],
      resolution: {
        outcome: 'resolved',
        plan: planExecutions(APPLY_2, {
          workspaces: [testWorkspace(B)],
          problems: [],
          imports: [
            { repository: A, number: 7 },
            { repository: A, number: 9 },
          ],
        }),
      },
    });

    // Then #9 alone is imported (#7 is tracked), B's workspace still queued.
    const id = importedChangesetId(CAMPAIGN, A, 9);
    const eventId = deterministicEventId(e.event_id, 'ChangesetImportRequested', id);
    expect(decision.outcome?.kind === 'resolved' && decision.outcome.queued.length).toBe(1);
    expect(decision.appends).toEqual([
      {
        stream: changesetStream(id),
        expected: 'any',
        event: {
          event_id: eventId,
          type: 'ChangesetImportRequested',
          data: {
            changesetId: id,
            campaign: CAMPAIGN,
            repository: A,
            headBranch: '#9',
            applyId: APPLY_2,
            number: 9,
          },
          metadata: metadataFor(APPLY_2, e.event_id, 'alice'),
        },
      },
    ]);
    expect(decision.changes.at(-1)).toEqual({
      kind: 'changeset',
      row: {
        changeset_id: id,
        campaign: CAMPAIGN,
        repository: A,
        head_branch: '#9',
        workspace_branch: null,
        workspace_path: '',
        removed: false,
        spec: null,
        last_event_id: eventId,
        import_number: 9,
      },
    });
  });

  it('the latest, no longer listing an imported pull request: ChangesetSpecRemoved (import-left-spec), and no workspace removal for it', () => {
    // Given #7 of A tracked, and A's own changeset.
    const state = new DesiredState();
    const own = recordedChangeset(A, null);
    const tracked: ChangesetRow = {
      ...recordedChangeset(A, null),
      changeset_id: importedChangesetId(CAMPAIGN, A, 7),
      head_branch: '#7',
      workspace_branch: null,
      import_number: 7,
    };
    state.rememberWanted(CAMPAIGN, [own, tracked]);
    const e = specApplied(APPLY_2, 4n);

    // When the application still resolves to A's workspace and imports nothing.
    const decision = decide(state, e, { later: [], resolution: resolvedTo([A]) });

    // Then only the import is removed, as import-left-spec.
    const removedId = deterministicEventId(
      e.event_id,
      'ChangesetSpecRemoved',
      tracked.changeset_id,
    );
    expect(decision.appends.map((a) => [a.event.type, a.event.data])).toEqual([
      [
        'ChangesetSpecRemoved',
        {
          changesetId: tracked.changeset_id,
          campaign: CAMPAIGN,
          repository: A,
          headBranch: '#7',
          applyId: APPLY_2,
          reason: 'import-left-spec',
        },
      ],
    ]);
    expect(decision.changes.at(-1)).toEqual({
      kind: 'changeset',
      row: { ...tracked, removed: true, last_event_id: removedId },
    });
  });

  it('the latest, failed to resolve: WorkspaceResolutionFailed with the first 4,000 characters, nothing queued', () => {
    const state = new DesiredState();
    const e = specApplied(APPLY_1, 1n);
    const message = `the code host failed: ${'x'.repeat(5000)}`;

    const decision = decide(state, e, { later: [], resolution: { outcome: 'failed', message } });

    expect(decision.outcome).toEqual({
      kind: 'failed',
      stream: campaignStream(CAMPAIGN),
      metadata: metadataFor(APPLY_1, e.event_id, 'alice'),
      message,
      event: {
        event_id: deterministicEventId(e.event_id, 'WorkspaceResolutionFailed'),
        type: 'WorkspaceResolutionFailed',
        data: {
          campaign: CAMPAIGN,
          applyId: APPLY_1,
          specHash: sha256Hex(SPEC_TEXT),
          message: message.slice(0, 4000),
        },
      },
    });
    expect(decision.appends).toEqual([]);
    expect(decision.changes.map((c) => c.kind)).toEqual(['applied']);
  });

  it('stale (a newer SpecApplied follows in its stream): only the application is recorded', () => {
    // Given the newer application already current.
    const state = appliedState(APPLY_2, 2n);
    const older = specApplied(APPLY_1, 1n);
    const newer = specApplied(APPLY_2, 2n);

    // When the older one is decided (no resolution: prepare skipped it).
    const decision = decide(state, older, { later: [newer] });

    // Then no outcome; and evolved, the newer application stays current.
    expect(decision.outcome).toBeUndefined();
    expect(decision.appends).toEqual([]);
    expect(decision.changes.map((c) => c.kind)).toEqual(['applied']);
    for (const c of decision.changes) state.evolve(c);
    expect(state.application(APPLY_1)?.apply_id).toBe(APPLY_1);
    expect(state.currentApplication(CAMPAIGN)).toBe(APPLY_2);
  });

  it('already reacted to (its outcome is in its stream): nothing recorded again', () => {
    const e = specApplied(APPLY_1, 1n);
    const outcome = stored('WorkspacesResolved', campaignStream(CAMPAIGN), 2n, {});
    outcome.event_id = deterministicEventId(e.event_id, 'WorkspacesResolved');

    const decision = decide(new DesiredState(), e, {
      later: [outcome],
      resolution: resolvedTo([A]),
    });

    expect(decision.outcome).toBeUndefined();
    expect(decision.appends).toEqual([]);
  });

  it('awaiting its outcome but unresolved: refuses (a retry resolves it)', () => {
    const e = specApplied(APPLY_1, 1n);
    expect(() => decide(new DesiredState(), e, { later: [] })).toThrow(
      /reached its transaction unresolved/,
    );
  });
});

describe('decide: PatchComputed', () => {
  const specOf = () => SPEC;

  it('of the current application: ChangesetSpecComputed with the rendered spec, the execution handled', () => {
    const state = appliedState();
    const { event: e, resultsBlob } = patchComputed(APPLY_1, A);

    const decision = decide(state, e, { resultsBlob, specOf });

    const id = changesetId(CAMPAIGN, A, 'hello-world');
    const eventId = deterministicEventId(e.event_id, 'ChangesetSpecComputed', id);
    const spec: ChangesetSpecData = {
      baseRef: 'main',
      baseRevision: 'a'.repeat(40),
      title: `Hello ${A}`,
      body: '',
      commit: { message: 'Say hello', author: { ...DEFAULT_COMMIT_AUTHOR } },
      published: false,
      diff: e.data.diff!,
      files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
    };
    expect(decision.outcome).toBeUndefined();
    expect(decision.appends).toEqual([
      {
        stream: changesetStream(id),
        expected: 'any',
        event: {
          event_id: eventId,
          type: 'ChangesetSpecComputed',
          data: {
            changesetId: id,
            campaign: CAMPAIGN,
            repository: A,
            headBranch: 'hello-world',
            applyId: APPLY_1,
            executionId: e.data.executionId,
            path: '',
            spec,
          },
          metadata: metadataFor(APPLY_1, e.event_id, 'alice'),
        },
      },
    ]);
    expect(decision.changes).toEqual([
      {
        kind: 'changeset',
        row: { ...recordedChangeset(A, spec), last_event_id: eventId },
      },
      {
        kind: 'handled',
        executionId: e.data.executionId,
        campaign: CAMPAIGN,
        applyId: APPLY_1,
        renderError: null,
      },
    ]);
    expect(decision.newBlobs).toEqual([]);
  });

  it('rendering what is already the desired state: nothing appended, the execution handled', () => {
    // Given the changeset a first patch of the workspace rendered.
    const state = appliedState();
    const first = patchComputed(APPLY_1, A);
    for (const c of decide(state, first.event, { resultsBlob: first.resultsBlob, specOf }).changes)
      state.evolve(c);

    // When the same result arrives again in another PatchComputed.
    const again = patchComputed(APPLY_1, A);
    const decision = decide(state, again.event, { resultsBlob: again.resultsBlob, specOf });

    // Then nothing changes in the desired state.
    expect(decision.appends).toEqual([]);
    expect(decision.changes.map((c) => c.kind)).toEqual(['handled']);
  });

  it('of a stale application: nothing at all', () => {
    const state = appliedState(APPLY_2);
    const { event: e, resultsBlob } = patchComputed(APPLY_1, A);

    expect(decide(state, e, { resultsBlob, specOf })).toEqual({
      appends: [],
      changes: [],
      newBlobs: [],
    });
  });

  it('empty, where a changeset was wanted: ChangesetSpecRemoved (empty-diff)', () => {
    const state = appliedState();
    const wanted = recordedChangeset(A, null);
    state.evolve({ kind: 'changeset', row: wanted });
    const { event: e } = patchComputed(APPLY_1, A, { empty: true });

    // No results blob, no spec: an empty patch renders nothing.
    const decision = decide(state, e, {});

    const removedId = deterministicEventId(e.event_id, 'ChangesetSpecRemoved', wanted.changeset_id);
    expect(decision.appends.map((a) => [a.event.type, a.event.event_id, a.event.data])).toEqual([
      [
        'ChangesetSpecRemoved',
        removedId,
        {
          changesetId: wanted.changeset_id,
          campaign: CAMPAIGN,
          repository: A,
          headBranch: 'hello-world',
          applyId: APPLY_1,
          reason: 'empty-diff',
        },
      ],
    ]);
    expect(decision.changes).toEqual([
      { kind: 'changeset', row: { ...wanted, removed: true, last_event_id: removedId } },
      expect.objectContaining({ kind: 'handled', renderError: null }),
    ]);
  });

  it.each<[string, Buffer | undefined, () => CampaignSpec | null, RegExp]>([
    ['its step results blob is missing', undefined, () => SPEC, /step results blob .* is missing/],
    [
      'its spec no longer validates',
      Buffer.from('{}'),
      () => null,
      /^the spec of this application no longer validates$/,
    ],
  ])(
    'that cannot be rendered (%s): ChangesetRenderFailed, the execution handled with the message',
    (_why, resultsBlob, specOfIt, message) => {
      const state = appliedState();
      const { event: e } = patchComputed(APPLY_1, A);

      const decision = decide(state, e, { resultsBlob, specOf: specOfIt });

      expect(decision.appends).toHaveLength(1);
      const [failed] = decision.appends;
      expect(failed).toMatchObject({
        stream: executionStream(e.data.executionId),
        event: {
          event_id: deterministicEventId(e.event_id, 'render-failed'),
          type: 'ChangesetRenderFailed',
          data: {
            executionId: e.data.executionId,
            campaign: CAMPAIGN,
            applyId: APPLY_1,
            repository: A,
            path: '',
          },
          metadata: metadataFor(APPLY_1, e.event_id, 'alice'),
        },
      });
      const text = (failed!.event.data as { message: string }).message;
      expect(text).toMatch(message);
      expect(decision.changes).toEqual([
        {
          kind: 'handled',
          executionId: e.data.executionId,
          campaign: CAMPAIGN,
          applyId: APPLY_1,
          renderError: text,
        },
      ]);
    },
  );

  it('of a second workspace of the repository whose branch is the first one’s: ChangesetRenderFailed naming both, the first changeset untouched', () => {
    // Given workspace "web" of repository A rendered its changeset on the static branch.
    const state = appliedState();
    const web = patchComputed(APPLY_1, A, { path: 'web' });
    for (const c of decide(state, web.event, { resultsBlob: web.resultsBlob, specOf }).changes)
      state.evolve(c);
    const first = state.changeset(changesetId(CAMPAIGN, A, 'hello-world'))!;
    expect(first.workspace_path).toBe('web');

    // When workspace "api" of the same repository renders the same branch.
    const api = patchComputed(APPLY_1, A, { path: 'api' });
    const decision = decide(state, api.event, { resultsBlob: api.resultsBlob, specOf });

    // Then it is refused: no changeset spec, a render failure that names both workspaces.
    expect(decision.appends.map((a) => a.event.type)).toEqual(['ChangesetRenderFailed']);
    const text = (decision.appends[0]!.event.data as { message: string }).message;
    expect(text).toBe(
      `multiple changeset specs have the same branch "hello-world" in ${A}: workspace "api" and workspace "web"; nothing was pushed for workspace "api". Include \${{ steps.path }} in changesetTemplate.branch (e.g. \${{ replace steps.path "/" "-" }}) to give each workspace its own`,
    );
    expect(decision.changes).toEqual([
      expect.objectContaining({ kind: 'handled', renderError: text }),
    ]);
    for (const c of decision.changes) state.evolve(c);
    expect(state.changeset(first.changeset_id)).toEqual(first);

    // And the first workspace's own patch, again, is no conflict with itself.
    const again = patchComputed(APPLY_1, A, { path: 'web' });
    expect(
      decide(state, again.event, { resultsBlob: again.resultsBlob, specOf }).changes.map(
        (c) => c.kind,
      ),
    ).toEqual(['handled']);
  });

  it('of a second branch of the repository whose head branch is the first one’s: ChangesetRenderFailed naming both branches', () => {
    const state = appliedState();
    const main = patchComputed(APPLY_1, A);
    for (const c of decide(state, main.event, { resultsBlob: main.resultsBlob, specOf }).changes)
      state.evolve(c);
    const first = state.changeset(changesetId(CAMPAIGN, A, 'hello-world'))!;
    expect(first.workspace_branch).toBe('main');

    const release = patchComputed(APPLY_1, A, { branch: 'release' });
    const decision = decide(state, release.event, { resultsBlob: release.resultsBlob, specOf });

    expect(decision.appends.map((a) => a.event.type)).toEqual(['ChangesetRenderFailed']);
    expect((decision.appends[0]!.event.data as { message: string }).message).toBe(
      `multiple changeset specs have the same branch "hello-world" in ${A}: workspace the root on release and workspace the root on main; nothing was pushed for workspace the root on release. Include \${{ repository.branch }} in changesetTemplate.branch to give each branch its own`,
    );
    for (const c of decision.changes) state.evolve(c);
    expect(state.changeset(first.changeset_id)).toEqual(first);
  });

  it('of a branch whose patch is empty: removes only that branch’s changesets, not another branch’s', () => {
    const state = appliedState();
    const main = patchComputed(APPLY_1, A);
    for (const c of decide(state, main.event, { resultsBlob: main.resultsBlob, specOf }).changes)
      state.evolve(c);

    const release = patchComputed(APPLY_1, A, { branch: 'release', empty: true });
    const decision = decide(state, release.event, { resultsBlob: release.resultsBlob, specOf });

    expect(decision.appends).toEqual([]);
    expect(decision.changes.map((c) => c.kind)).toEqual(['handled']);
  });

  it('of a current application that is not recorded: refuses', () => {
    const state = new DesiredState();
    state.rememberCampaign({
      campaign: CAMPAIGN,
      apply_id: APPLY_1,
      spec_event_id: deterministicEventId('x'),
      stream_version: 1n,
      closed: false,
    });
    const { event: e, resultsBlob } = patchComputed(APPLY_1, A);
    expect(() => decide(state, e, { resultsBlob, specOf })).toThrow(/is current but not recorded/);
  });
});

describe('decide: other events', () => {
  it.each(['ExecutionQueued', 'ExecutionStarted', 'ExecutionFailed', 'WorkspacesResolved'])(
    '%s decides nothing',
    (type) => {
      const e = stored(type, executionStream('e'.repeat(32)), 1n, { campaign: CAMPAIGN });
      const resolved: Resolved = {};
      expect(decide(appliedState(), e, resolved)).toEqual({
        appends: [],
        changes: [],
        newBlobs: [],
      });
    },
  );
});

describe('DesiredState.evolve', () => {
  it('an older application is recorded without becoming current; queueing never undoes handled', () => {
    const state = appliedState(APPLY_2);
    state.evolve({
      kind: 'applied',
      apply: { ...state.application(APPLY_2)!, apply_id: APPLY_1, spec_text: SPEC_TEXT },
      streamVersion: 0n,
    });
    expect(state.currentApplication(CAMPAIGN)).toBe(APPLY_2);
    expect(state.application(APPLY_1)?.apply_id).toBe(APPLY_1);

    const id = executionId(APPLY_2, testWorkspace(A));
    state.evolve({
      kind: 'handled',
      executionId: id,
      campaign: CAMPAIGN,
      applyId: APPLY_2,
      renderError: 'x',
    });
    state.evolve({ kind: 'queued', campaign: CAMPAIGN, applyId: APPLY_2, executionIds: [id] });
    expect(state.execution(id)).toMatchObject({ handled: true, render_error: 'x' });
    expect(state.written().applies.map((a) => a.apply_id)).toEqual([APPLY_2, APPLY_1]);
  });

  it('writes back in key order', () => {
    const state = new DesiredState();
    for (const r of [B, A]) state.evolve({ kind: 'changeset', row: recordedChangeset(r, null) });
    state.evolve({
      kind: 'queued',
      campaign: CAMPAIGN,
      applyId: APPLY_1,
      executionIds: ['b', 'a'],
    });
    const written = state.written();
    const ids = [A, B].map((r) => changesetId(CAMPAIGN, r, 'hello-world')).sort();
    expect(written.changesets.map((c) => c.changeset_id)).toEqual(ids);
    expect(written.executions.map((e) => e.execution_id)).toEqual(['a', 'b']);
  });
});

describe('decide: CampaignClosed and CampaignDeleted', () => {
  const closed = (closeChangesets: boolean, version = 5n) =>
    stored('CampaignClosed', campaignStream(CAMPAIGN), version, {
      campaign: CAMPAIGN,
      closeChangesets,
      actor: 'bob',
    });

  it('closing with its changesets: each wanted one removed (campaign-closed) by the closer, and its later patches render nothing', () => {
    const state = appliedState();
    const own = recordedChangeset(A, null);
    state.rememberWanted(CAMPAIGN, [own]);
    const e = closed(true);

    const decision = decide(state, e, {});

    expect(decision.appends.map((a) => [a.event.type, a.event.data, a.event.metadata])).toEqual([
      [
        'ChangesetSpecRemoved',
        {
          changesetId: own.changeset_id,
          campaign: CAMPAIGN,
          repository: A,
          headBranch: 'hello-world',
          applyId: APPLY_1,
          reason: 'campaign-closed',
        },
        metadataFor(APPLY_1, e.event_id, 'bob'),
      ],
    ]);
    for (const c of decision.changes) state.evolve(c);
    expect(state.isClosed(CAMPAIGN)).toBe(true);
    const { event, resultsBlob } = patchComputed(APPLY_1, B);
    const late = decide(state, event, { resultsBlob, specOf: () => SPEC });
    expect(late).toEqual({ appends: [], changes: [], newBlobs: [] });
  });

  it('closing without its changesets: nothing recorded, the campaign closed', () => {
    const state = appliedState();
    state.rememberWanted(CAMPAIGN, [recordedChangeset(A, null)]);
    const decision = decide(state, closed(false), {});
    expect(decision.appends).toEqual([]);
    expect(decision.changes).toEqual([{ kind: 'closed', campaign: CAMPAIGN, streamVersion: 5n }]);
  });

  it('an application closed before it was resolved never runs', () => {
    const state = new DesiredState();
    state.rememberWanted(CAMPAIGN, []);
    const e = specApplied(APPLY_1, 1n);
    const decision = decide(state, e, { later: [closed(true, 2n)], resolution: resolvedTo([A]) });
    expect(decision.outcome).toBeUndefined();
  });

  it('deleting: every wanted changeset forgotten without an event, so the name applied anew removes none', () => {
    const state = appliedState();
    const own = recordedChangeset(A, null);
    state.rememberWanted(CAMPAIGN, [own]);
    const e = stored('CampaignDeleted', campaignStream(CAMPAIGN), 6n, {
      campaign: CAMPAIGN,
      actor: 'bob',
    });
    const decision = decide(state, e, {});
    expect(decision.appends).toEqual([]);
    expect(decision.changes).toEqual([{ kind: 'changeset', row: { ...own, removed: true } }]);
  });
});
