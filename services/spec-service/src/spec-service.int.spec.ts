import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  campaignsCatalogue,
  campaignStream,
  changesetId,
  changesetStream,
  deadLetterStream,
  EventRelay,
  executionId,
  executionStream,
  PostgresEventStore,
  replayProjection,
  type ChangesetSpecData,
  type EventsTopology,
  type StoredEvent,
  type WorkspaceData,
} from '@campaigns/events';
import {
  apiSubject,
  type ApiReply,
  type ApiVerb,
  type ApplyResult,
  type CampaignStatus,
  type ChangesetsPage,
  type ExecutionsPage,
  type FullCampaignStatus,
  type ListResult,
  type Page,
  type PreviewPart,
  type PreviewResult,
} from '@campaigns/contracts';
import type { StepResults } from '@campaigns/campaign-spec';
import type { ServiceApplication } from '@campaigns/service-kit';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import {
  createTestDatabase,
  type TestDatabase,
  connectTestNats,
  deleteStream,
  eventually,
  openProjectionDatabase,
  uniqueTopology,
} from '@campaigns/events/testing';
import {
  DEFAULT_COMMIT_AUTHOR,
  desiredStateProcessManager,
} from './desired-state/process-manager.js';
import { statusProjection } from './status/status-projection.js';
import { FixedResolver, testWorkspace } from './test-support/fixed-resolver.js';
import { inTransaction, openSpecServiceDatabase } from './test-support/spec-service-database.js';
import { bearerHeaders, issueTestToken } from './test-support/access-token.js';
import { startSpecService } from './test-support/start-spec-service.js';

const SCHEMA = 'spec_service';
const CANARY = 'ghp_canary0123456789abcdef';
const A = 'github.com/acme/a';
const B = 'github.com/acme/b';
const C = 'github.com/acme/c';

const spec = (
  o: { title?: string; run?: string; name?: string; branch?: string; published?: string } = {},
) => `name: ${o.name ?? 'hello-world'}
description: Add Hello World to READMEs
on:
  - repositoriesMatchingQuery: file:README.md
steps:
  - run: ${o.run ?? 'echo Hello | tee -a README.md'}
    container: alpine:3
changesetTemplate:
  title: ${o.title ?? 'Hello World in ${{ repository.name }}'}
  body: My first campaign!
  branch: ${o.branch ?? 'hello-world'}
  commit:
    message: Append Hello to .md files
  published: ${o.published ?? 'false'}
`;

describe('spec-service (real PostgreSQL and NATS)', () => {
  let db: TestDatabase;
  let nats: NatsConnection;
  let topology: EventsTopology;
  let store: PostgresEventStore;
  let relay: EventRelay;
  let service: ServiceApplication;
  /** The service's tables, as a replay reads them (beside the service's own DataSource). */
  let database: DataSource;
  const resolver = new FixedResolver();
  /** alice's: every request carries it. */
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase('spec_service_int');
    nats = await connectTestNats();
    topology = uniqueTopology();
    store = new PostgresEventStore(db.pool, campaignsCatalogue(), { secrets: [CANARY] });
    await store.migrate();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    await relay.start();
    service = await startSpecService({
      store,
      nats,
      topology,
      resolver,
      retryBackoffMs: { initial: 20, max: 200 },
    });
    database = await openSpecServiceDatabase(db.url, SCHEMA);
    // A site admin, whose requests act in the site's namespace (default) unless they name one:
    // these tests are about campaigns, not namespaces, so their campaigns keep their bare names.
    token = await issueTestToken(db.pool, 'alice', { siteAdmin: true });
  });

  afterAll(async () => {
    await database?.destroy();
    await service.close();
    await relay.stop();
    await deleteStream(nats, topology);
    await nats.close();
    await db.drop();
  });

  async function request<T>(verb: ApiVerb, body: unknown) {
    const reply = await nats.request(
      apiSubject(topology, verb),
      typeof body === 'string' ? body : JSON.stringify(body),
      { timeout: 20_000, headers: bearerHeaders(token) },
    );
    return reply.json<ApiReply<T>>();
  }
  /** Every row of a paged verb, page after page. */
  async function allPages<P extends Page, R>(
    verb: ApiVerb,
    body: object,
    rowsOf: (page: P) => R[],
  ): Promise<R[]> {
    const rows: R[] = [];
    let after: string | null = null;
    do {
      const reply: ApiReply<P> = await request<P>(verb, { ...body, after });
      if (!reply.ok) throw new Error(`${verb} failed: ${reply.error.message}`);
      rows.push(...rowsOf(reply));
      after = reply.next;
    } while (after !== null);
    return rows;
  }
  /** The messages of a preview's reply up to its empty end marker, which must come. */
  async function previewParts(body: unknown): Promise<ApiReply<PreviewPart>[]> {
    const messages = await nats.requestMany(
      apiSubject(topology, 'preview'),
      typeof body === 'string' ? body : JSON.stringify(body),
      { strategy: 'sentinel', maxWait: 20_000, headers: bearerHeaders(token) },
    );
    const parts: ApiReply<PreviewPart>[] = [];
    for await (const m of messages) {
      if (m.data.length === 0) return parts;
      parts.push(m.json<ApiReply<PreviewPart>>());
    }
    throw new Error(`the preview's end marker never came after ${parts.length} messages`);
  }
  async function previewOf(body: unknown): Promise<ApiReply<PreviewResult>> {
    const [first, ...chunks] = await previewParts(body);
    if (!first!.ok) return first!;
    if (!('head' in first!)) throw new Error('the preview did not start with its head');
    const rows = chunks.flatMap((c) => (c.ok && 'rows' in c ? c.rows : []));
    expect(rows).toHaveLength(first.head.rowCount);
    const { campaign, problems, warnings } = first.head;
    return { ok: true, campaign, rows, problems, warnings };
  }
  const apply = (specText: string) =>
    request<ApplyResult>('apply', { fileName: 'hello.campaign.yaml', specText });
  const read = (stream: string) => store.readStream(stream);
  const ofType = <T>(events: StoredEvent[], type: string) =>
    events.filter((e) => e.type === type) as StoredEvent<T>[];
  /** Waits until the process manager has handled `stream` up to its current version. */
  async function processed(stream: string, projection = 'desired_state'): Promise<void> {
    const version = await store.streamVersion(stream);
    const done = await eventually(async () => {
      const { rows } = await db.pool.query<{ stream_version: string }>(
        `SELECT stream_version FROM ${SCHEMA}.projection_checkpoints WHERE projection = $1 AND stream_id = $2`,
        [projection, stream],
      );
      return rows[0] !== undefined && BigInt(rows[0].stream_version) >= (version ?? 0n);
    });
    expect(done).toBe(true);
  }
  /** The summary with every execution (of its application) and changeset, as the CLI reads them. */
  async function statusOf(campaign = 'hello-world'): Promise<FullCampaignStatus> {
    const reply = await request<CampaignStatus>('get', { campaign });
    if (!reply.ok) throw new Error(`get failed: ${reply.error.message}`);
    const { ok: _ok, ...summary } = reply;
    return {
      ...summary,
      executions: await allPages(
        'executions',
        { campaign, applyId: summary.applyId },
        (p: ExecutionsPage) => p.executions,
      ),
      changesets: await allPages('changesets', { campaign }, (p: ChangesetsPage) => p.changesets),
    };
  }
  async function statusUntil(
    check: (s: FullCampaignStatus) => boolean,
    campaign = 'hello-world',
  ): Promise<FullCampaignStatus> {
    let last: FullCampaignStatus | undefined;
    const held = await eventually(async () => {
      last = await statusOf(campaign).catch(() => undefined);
      return last !== undefined && check(last);
    });
    if (!held) throw new Error(`status never matched; last: ${JSON.stringify(last, null, 2)}`);
    // The summary is read before the pages, so the pages can be ahead of it: read once more, now
    // that what the check waited for is projected, so summary and pages agree.
    return statusOf(campaign);
  }

  /** The diff `patchComputed` records for a workspace. */
  const patchOf = (workspace: WorkspaceData) =>
    `diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n # ${workspace.repository}\n+Hello\n`;
  /** What an executor records for one workspace: the results and diff blobs, then PatchComputed. */
  async function patchComputed(
    applyId: string,
    workspace: WorkspaceData,
    o: { empty?: boolean; campaign?: string } = {},
  ) {
    const patch = patchOf(workspace);
    const files = o.empty
      ? { modified: [], added: [], deleted: [], renamed: [] }
      : { modified: ['README.md'], added: [], deleted: [], renamed: [] };
    const results: StepResults = {
      files,
      fileDiffs: o.empty ? [] : [{ path: 'README.md', patch }],
      outputs: {},
      steps: [{ stepIndex: 0, skipped: false, stdout: 'Hello\n', stderr: '', files }],
    };
    const resultsRef = await store.putBlob(JSON.stringify(results));
    const diffRef = o.empty ? null : await store.putBlob(patch);
    const id = executionId(applyId, workspace);
    await store.append(
      executionStream(id),
      [
        {
          type: 'PatchComputed',
          data: {
            executionId: id,
            campaign: o.campaign ?? 'hello-world',
            applyId,
            workspace,
            empty: o.empty ?? false,
            diff: diffRef,
            results: resultsRef,
            files,
            steps: [{ stepIndex: 0, skipped: false, exitCode: 0, durationMs: 12 }],
            cached: false,
          },
        },
      ],
      {
        expected: 'any',
        metadata: { correlation_id: applyId, causation_id: null, actor: 'alice', source: 'test' },
      },
    );
    return { id, patch };
  }

  async function executionFailed(applyId: string, repository: string, campaign = 'hello-world') {
    const id = executionId(applyId, { repository: repository, branch: 'main', path: '' });
    await store.append(
      executionStream(id),
      [
        {
          type: 'ExecutionFailed',
          data: {
            executionId: id,
            campaign,
            applyId,
            repository,
            path: '',
            reason: 'command-failed',
            stepIndex: 0,
            exitCode: 2,
            message: 'step 1 exited with 2',
            stderrTail: 'tee: README.md: Permission denied',
          },
        },
      ],
      {
        expected: 'any',
        metadata: { correlation_id: applyId, causation_id: null, actor: 'alice', source: 'test' },
      },
    );
  }

  /** What the reconciler records once the code host matches the desired state `specEventId`. */
  async function reconciled(
    id: string,
    repository: string,
    specEventId: string,
    campaign = 'hello-world',
  ) {
    await reconcilerEvent(id, 'ChangesetReconciled', {
      changesetId: id,
      campaign,
      repository,
      headBranch: 'hello-world',
      specEventId,
      operations: [],
    });
  }
  async function reconcilerEvent(id: string, type: string, data: Record<string, unknown>) {
    const specEventId = (data.specEventId as string | undefined) ?? null;
    await store.append(changesetStream(id), [{ type, data }], {
      expected: 'any',
      metadata: {
        correlation_id: firstApplyId,
        causation_id: specEventId,
        actor: 'alice',
        source: 'reconciler',
      },
    });
  }

  let firstApplyId: string;
  const changesetA = changesetId('hello-world', A, 'hello-world');

  it('refuses an invalid spec with FILE:LINE:COL diagnostics and records nothing', async () => {
    const reply = await apply('name: bad name!\nsteps: 3\n');

    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('invalid-spec');
    expect(reply.error.diagnostics!.length).toBeGreaterThan(0);
    for (const d of reply.error.diagnostics!) expect(d).toMatch(/^hello\.campaign\.yaml:\d+:\d+: /);
    const { rows } = await db.pool.query(`SELECT 1 FROM eventstore.events`);
    expect(rows).toEqual([]);
  });

  it('answers a malformed request with invalid-request', async () => {
    const notJson = await request('apply', '{not json');
    expect(notJson).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const missing = await request('apply', { fileName: 'x.yaml' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const notObject = await request('get', '[1, 2]');
    expect(notObject).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('refuses to record a spec holding a secret value, or one too large for an event', async () => {
    const secret = await apply(spec({ run: `echo ${CANARY}` }));
    expect(secret).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(!secret.ok && secret.error.message).toMatch(/configured secret/);
    expect(!secret.ok && secret.error.message).not.toContain(CANARY);
    const large = await apply(spec({ title: `Big ${'x'.repeat(300 * 1024)}` }));
    expect(large).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(!large.ok && large.error.message).toMatch(/too large to record/);
    const { rows } = await db.pool.query(`SELECT 1 FROM eventstore.events`);
    expect(rows).toEqual([]);
  });

  it('apply records SpecApplied with the apply id as correlation; an identical apply records nothing', async () => {
    resolver.workspaces = [testWorkspace(A), testWorkspace(B)];
    const reply = await apply(spec());

    expect(reply).toMatchObject({ ok: true, campaign: 'hello-world', unchanged: false });
    if (!reply.ok) return;
    firstApplyId = reply.applyId;
    const [applied] = ofType<{ applyId: string; specHash: string; actor: string }>(
      await read(campaignStream('hello-world')),
      'SpecApplied',
    );
    expect(applied!.data).toMatchObject({ applyId: reply.applyId, actor: 'alice' });
    expect(applied!.data.specHash).toBe(reply.specHash);
    expect(applied!.metadata).toEqual({
      correlation_id: reply.applyId,
      causation_id: null,
      actor: 'alice',
      source: 'spec-service',
    });

    const before = await store.streamVersion(campaignStream('hello-world'));
    const again = await apply(spec());
    expect(again).toMatchObject({
      ok: true,
      unchanged: true,
      applyId: reply.applyId,
      specHash: reply.specHash,
    });
    await processed(campaignStream('hello-world'));
    expect(
      ofType(await read(campaignStream('hello-world')), 'SpecApplied').map((e) => e.event_id),
    ).toEqual([applied!.event_id]);
    expect(await store.streamVersion(campaignStream('hello-world'))).toBeGreaterThanOrEqual(
      before!,
    );
  });

  it('concurrent identical applies record one SpecApplied; the others find it unchanged', async () => {
    resolver.workspaces = [];
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => apply(spec({ name: 'racing' }))),
    );
    const ok = replies.filter((r): r is ApplyResult & { ok: true } => r.ok);
    expect(ok).toHaveLength(6);
    expect(ok.filter((r) => !r.unchanged)).toHaveLength(1);
    expect(new Set(ok.map((r) => r.applyId)).size).toBe(1);
    const applied = ofType(await read(campaignStream('racing')), 'SpecApplied');
    expect(applied).toHaveLength(1);
    expect((applied[0]!.data as { applyId: string }).applyId).toBe(ok[0]!.applyId);
  });

  it('the process manager records WorkspacesResolved and queues one execution per workspace', async () => {
    await processed(campaignStream('hello-world'));
    const events = await read(campaignStream('hello-world'));
    const [resolved] = ofType<{
      workspaceCount: number;
      problems: { entry: string; message: string }[];
      problemsOmitted: number;
    }>(events, 'WorkspacesResolved');
    expect(resolved!.data.problems).toEqual([]);
    expect(resolved!.data.problemsOmitted).toBe(0);
    const specApplied = events[0]!;
    expect(resolved!.data.workspaceCount).toBe(2);
    expect(resolved!.metadata).toEqual({
      correlation_id: firstApplyId,
      causation_id: specApplied.event_id,
      actor: 'alice',
      source: 'spec-service',
    });
    for (const repository of [A, B]) {
      const queued = await read(
        executionStream(
          executionId(firstApplyId, { repository: repository, branch: 'main', path: '' }),
        ),
      );
      expect(queued.map((e) => e.type)).toEqual(['ExecutionQueued']);
      expect(queued[0]!.data).toMatchObject({
        applyId: firstApplyId,
        campaign: 'hello-world',
        workspace: { repository, branch: 'main', path: '' },
      });
    }

    const status = await statusUntil((s) => s.executions.length === 2);
    expect(status).toMatchObject({
      campaign: 'hello-world',
      applyId: firstApplyId,
      actor: 'alice',
      phase: 'executing',
    });
    expect(status.executions.map((e) => e.state)).toEqual(['queued', 'queued']);
  });

  it('handling the same SpecApplied again (a redelivery) stores no second copy of any event', async () => {
    const stream = campaignStream('hello-world');
    const versions = async () =>
      Promise.all(
        [
          stream,
          ...[A, B].map((r) =>
            executionStream(executionId(firstApplyId, { repository: r, branch: 'main', path: '' })),
          ),
        ].map((s) => store.streamVersion(s)),
      );
    const before = await versions();
    const [specApplied] = await read(stream);
    // A second copy of the process manager with its own, empty state, as after a lost checkpoint.
    const again = desiredStateProcessManager({ store, resolver });
    // Resolving again now would answer differently: it must not be asked.
    resolver.workspaces = [testWorkspace(C)];
    const asked = resolver.asked.length;
    const elsewhere = await openProjectionDatabase(db.url, 'pm_redelivery', [again]);
    try {
      await inTransaction(elsewhere, async ({ tx, manager }) => {
        const prepared = await again.prepare!([specApplied!]);
        await again.handle([specApplied!], { tx, manager, schema: 'pm_redelivery', prepared });
      });
    } finally {
      await elsewhere.destroy();
    }
    expect(await versions()).toEqual(before);
    expect(resolver.asked.length).toBe(asked);
  });

  it('renders a PatchComputed into ChangesetSpecComputed from the template; an empty one into none', async () => {
    const idA = executionId(firstApplyId, { repository: A, branch: 'main', path: '' });
    await store.append(
      executionStream(idA),
      [
        {
          type: 'ExecutionStarted',
          data: {
            executionId: idA,
            campaign: 'hello-world',
            applyId: firstApplyId,
            repository: A,
            attempt: 1,
            worker: 'w1',
          },
        },
      ],
      {
        expected: 'any',
        metadata: {
          correlation_id: firstApplyId,
          causation_id: null,
          actor: 'alice',
          source: 'test',
        },
      },
    );
    expect(
      (await statusUntil((s) => s.executions[0]!.state === 'running')).executions[0]!.state,
    ).toBe('running');

    const { patch } = await patchComputed(firstApplyId, testWorkspace(A));
    await patchComputed(firstApplyId, testWorkspace(B), { empty: true });
    await processed(executionStream(idA));
    await processed(
      executionStream(executionId(firstApplyId, { repository: B, branch: 'main', path: '' })),
    );

    const computed = await read(changesetStream(changesetA));
    expect(computed.map((e) => e.type)).toEqual(['ChangesetSpecComputed']);
    const data = computed[0]!.data as { spec: ChangesetSpecData; headBranch: string };
    expect(data.headBranch).toBe('hello-world');
    expect(data.spec).toMatchObject({
      baseRef: 'main',
      baseRevision: 'a'.repeat(40),
      title: `Hello World in ${A}`,
      body: 'My first campaign!',
      commit: { message: 'Append Hello to .md files', author: DEFAULT_COMMIT_AUTHOR },
      published: false,
      files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
    });
    expect((await store.getBlob(data.spec.diff.sha256))!.toString()).toBe(patch);
    expect(computed[0]!.metadata).toMatchObject({
      correlation_id: firstApplyId,
      actor: 'alice',
      source: 'spec-service',
    });
    expect(
      await store.streamVersion(changesetStream(changesetId('hello-world', B, 'hello-world'))),
    ).toBeNull();

    const status = await statusUntil((s) => s.changesets.length === 1 && s.phase === 'reconciling');
    expect(status.executions.map((e) => [e.repository, e.state])).toEqual([
      [A, 'succeeded'],
      [B, 'empty'],
    ]);
    expect(status.changesets[0]).toMatchObject({
      repository: A,
      headBranch: 'hello-world',
      state: 'unpublished',
      converged: false,
    });
  });

  it('an identical re-execution appends no new changeset spec', async () => {
    const { id } = await patchComputed(firstApplyId, testWorkspace(A));
    await processed(executionStream(id));
    expect(await store.streamVersion(changesetStream(changesetA))).toBe(1n);
  });

  it('status follows the reconciler: converged once reconciled, then complete; list summarises', async () => {
    const [spec0] = await read(changesetStream(changesetA));
    await reconciled(changesetA, A, spec0!.event_id);
    const status = await statusUntil((s) => s.phase === 'complete');
    expect(status.changesets[0]).toMatchObject({ state: 'unpublished', converged: true });
    // The rendered title, base branch and files changed; the lines only when asked (wide).
    expect(status.changesets[0]).toMatchObject({
      title: `Hello World in ${A}`,
      baseBranch: 'main',
      diffstat: { files: 1 },
    });
    expect(status.changesets[0]!.diffstat).not.toHaveProperty('added');
    const wide = await request<ChangesetsPage>('changesets', {
      campaign: 'hello-world',
      diffstat: true,
    });
    expect(wide.ok && wide.changesets[0]!.diffstat).toEqual({ files: 1, added: 1, deleted: 0 });
    expect(status.counts).toEqual({
      workspaces: 2,
      executed: 2,
      failed: 0,
      noChanges: 1,
      changesets: 1,
      published: 0,
      errored: 0,
      open: 0,
      merged: 0,
      closed: 0,
      deadLettered: 0,
      states: {
        unpublished: 1,
        pending: 0,
        scheduled: 0,
        open: 0,
        draft: 0,
        closed: 0,
        merged: 0,
        removed: 0,
        archived: 0,
        detached: 0,
      },
    });

    const list = await request<ListResult>('list', {});
    expect(list).toMatchObject({
      ok: true,
      campaigns: [
        { campaign: 'hello-world', actor: 'alice', phase: 'complete', changesets: 1, open: 0 },
        { campaign: 'racing', phase: 'complete', changesets: 0 },
      ],
    });
    const missing = await request('get', { campaign: 'nope' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('preview compares with the current state and records nothing', async () => {
    const version = await store.streamVersion(campaignStream('hello-world'));
    const preview = async (text: string, workspaces: WorkspaceData[]) => {
      resolver.workspaces = workspaces;
      const reply = await previewOf({ fileName: 'hello.campaign.yaml', specText: text });
      if (!reply.ok) throw new Error(reply.error.message);
      return reply.rows.map((r) => [r.repository, r.headBranch, r.action]);
    };

    // B's steps ran and changed nothing: the same steps change nothing again.
    expect(await preview(spec(), [testWorkspace(A), testWorkspace(B)])).toEqual([
      [A, 'hello-world', 'unchanged'],
      [B, null, 'no-changes'],
    ]);
    expect(
      await preview(spec({ title: 'New title' }), [testWorkspace(A), testWorkspace(C)]),
    ).toEqual([
      [A, 'hello-world', 'update'],
      [C, null, 'create'],
    ]);
    expect(
      await preview(spec({ run: 'echo Bye >> README.md' }), [testWorkspace(A), testWorkspace(B)]),
    ).toEqual([
      [A, 'hello-world', 'push'],
      [B, null, 'create'],
    ]);
    expect(await preview(spec(), [testWorkspace(B)])).toEqual([
      [A, 'hello-world', 'close'],
      [B, null, 'no-changes'],
    ]);
    // With diff: the diff A's changeset keeps, read from its blob; none for B, which has no
    // changeset, nor for a changeset whose steps run again.
    resolver.workspaces = [testWorkspace(A), testWorkspace(B)];
    const withDiff = await previewOf({
      fileName: 'hello.campaign.yaml',
      specText: spec({ title: 'New title' }),
      diff: true,
    });
    expect(withDiff.ok && withDiff.rows.map((r) => [r.repository, r.action, r.diff])).toEqual([
      [A, 'update', { text: patchOf(testWorkspace(A)), truncated: false }],
      [B, 'no-changes', undefined],
    ]);
    const pushed = await previewOf({
      fileName: 'hello.campaign.yaml',
      specText: spec({ run: 'echo Bye >> README.md' }),
      diff: true,
    });
    expect(pushed.ok && pushed.rows.map((r) => [r.action, r.diff])).toEqual([
      ['push', undefined],
      ['create', undefined],
    ]);
    const invalid = await previewParts({ fileName: 'p.yaml', specText: 'steps: 1' });
    expect(invalid).toMatchObject([{ ok: false, error: { code: 'invalid-spec' } }]);

    expect(await store.streamVersion(campaignStream('hello-world'))).toBe(version);
  });

  it('a repository that left the spec gets ChangesetSpecRemoved; a stale PatchComputed is ignored', async () => {
    resolver.workspaces = [testWorkspace(B)];
    const reply = await apply(spec({ title: 'Second' }));
    expect(reply).toMatchObject({ ok: true, unchanged: false });
    if (!reply.ok) return;
    await processed(campaignStream('hello-world'));

    const events = await read(changesetStream(changesetA));
    expect(events.map((e) => e.type)).toEqual([
      'ChangesetSpecComputed',
      'ChangesetReconciled',
      'ChangesetSpecRemoved',
    ]);
    expect(events[2]!.data).toMatchObject({
      applyId: reply.applyId,
      reason: 'repository-left-spec',
    });
    expect(
      await read(
        executionStream(executionId(reply.applyId, { repository: B, branch: 'main', path: '' })),
      ),
    ).toHaveLength(1);

    // The first application's executor finishing late changes nothing.
    const { id } = await patchComputed(firstApplyId, testWorkspace(A));
    await processed(executionStream(id));
    expect(await store.streamVersion(changesetStream(changesetA))).toBe(3n);

    const status = await statusUntil(
      (s) => s.applyId === reply.applyId && s.changesets[0]?.state === 'removed',
    );
    expect(status.executions.map((e) => [e.repository, e.state])).toEqual([[B, 'queued']]);
    expect(status.phase).toBe('executing');
    expect(status.changesets[0]!.converged).toBe(false);
    await reconciled(changesetA, A, events[2]!.event_id);
    await statusUntil((s) => s.changesets[0]!.converged);

    // Back in the spec: preview says its changeset comes back.
    resolver.workspaces = [testWorkspace(A), testWorkspace(B)];
    const back = await previewOf({
      fileName: 'hello.campaign.yaml',
      specText: spec({ title: 'Second' }),
    });
    expect(back.ok && back.rows.map((r) => [r.repository, r.action])).toEqual([
      [A, 'reopen'],
      [B, 'create'],
    ]);
  });

  it('an execution failure and a failed resolution show as needs-attention', async () => {
    resolver.workspaces = [testWorkspace(C)];
    const reply = await apply(spec({ title: 'Third' }));
    if (!reply.ok) throw new Error(reply.error.message);
    await processed(campaignStream('hello-world'));
    await executionFailed(reply.applyId, C);
    const failed = await statusUntil((s) => s.executions[0]?.state === 'failed');
    expect(failed.phase).toBe('needs-attention');
    expect(failed.executions).toEqual([
      {
        repository: C,
        branch: 'main',
        path: '',
        state: 'failed',
        message: 'step 1 exited with 2',
        stderrTail: 'tee: README.md: Permission denied',
      },
    ]);

    resolver.failure = new Error('github.com is unreachable');
    try {
      const other = await apply(spec({ name: 'other' }));
      if (!other.ok) throw new Error(other.error.message);
      await processed(campaignStream('other'));
      expect((await read(campaignStream('other'))).map((e) => e.type)).toEqual([
        'SpecApplied',
        'WorkspaceResolutionFailed',
      ]);
      const status = await statusUntil((s) => s.phase === 'needs-attention', 'other');
      expect(status.problems).toEqual([
        { entry: 'on', message: 'resolving workspaces failed: github.com is unreachable' },
      ]);
    } finally {
      resolver.failure = undefined;
    }
  });

  it('status shows what the reconciler and the code host report, and replays to the same rows', async () => {
    resolver.workspaces = [testWorkspace(A)];
    const reply = await apply(spec({ name: 'pubs', published: 'true' }));
    if (!reply.ok) throw new Error(reply.error.message);
    await processed(campaignStream('pubs'));
    await patchComputed(reply.applyId, testWorkspace(A), { campaign: 'pubs' });
    const id = changesetId('pubs', A, 'hello-world');
    const computed = await statusUntil((s) => s.changesets.length === 1, 'pubs');
    expect(computed.changesets[0]).toMatchObject({ state: 'pending', converged: false });
    const [specEvent] = await read(changesetStream(id));
    const base = {
      changesetId: id,
      campaign: 'pubs',
      repository: A,
      headBranch: 'hello-world',
      specEventId: specEvent!.event_id,
    };

    await reconcilerEvent(id, 'ChangesetPublished', {
      ...base,
      number: 7,
      url: 'https://github.example/acme/a/pull/7',
      nodeId: 'PR_7',
      draft: false,
      baseRef: 'main',
      headRefOid: 'b'.repeat(40),
      title: `Hello World in ${A}`,
      body: 'My first campaign!',
    });
    await reconcilerEvent(id, 'ReconcileFailed', {
      ...base,
      operation: 'update',
      retryable: false,
      attempt: 1,
      message: 'Resource not accessible by integration',
      httpStatus: 403,
      retryInMs: null,
    });
    const failing = await statusUntil((s) => s.changesets[0]!.lastError !== null, 'pubs');
    expect(failing.phase).toBe('needs-attention');
    expect(failing.changesets[0]).toMatchObject({
      state: 'open',
      number: 7,
      url: 'https://github.example/acme/a/pull/7',
      errorTerminal: true,
      converged: false,
    });
    expect(failing.counts).toMatchObject({ changesets: 1, published: 1, errored: 1 });

    await reconcilerEvent(id, 'ChangesetObserved', {
      changesetId: id,
      campaign: 'pubs',
      repository: A,
      headBranch: 'hello-world',
      source: 'webhook',
      deliveryId: 'd-1',
      trigger: 'pull_request.converted_to_draft',
      number: 7,
      state: 'open',
      draft: true,
      checks: 'SUCCESS',
      reviewDecision: 'APPROVED',
    });
    await reconciled(id, A, specEvent!.event_id, 'pubs');
    const complete = await statusUntil((s) => s.phase === 'complete', 'pubs');
    expect(complete.changesets[0]).toMatchObject({
      state: 'draft',
      draft: true,
      checks: 'SUCCESS',
      review: 'APPROVED',
      lastError: null,
      converged: true,
    });

    await reconcilerEvent(id, 'ChangesetObserved', {
      changesetId: id,
      campaign: 'pubs',
      repository: A,
      headBranch: 'hello-world',
      source: 'sync',
      deliveryId: null,
      trigger: 'sync',
      number: 7,
      state: 'merged',
    });
    await statusUntil((s) => s.changesets[0]!.state === 'merged', 'pubs');
    const list = await request<ListResult>('list', {});
    expect(list.ok && list.campaigns.find((c) => c.campaign === 'pubs')).toMatchObject({
      changesets: 1,
      merged: 1,
      open: 0,
    });

    await processed(changesetStream(id), 'status');
    const replay = await replayProjection({
      store,
      database,
      projection: statusProjection(),
      liveSchema: SCHEMA,
    });
    expect(replay.differences).toEqual([]);
    expect(replay.equal).toBe(true);
    expect(replay.tables.find((t) => t.name === 'status_changesets')!.replayedRows).toBe(2);
  });

  it('a changeset template that fails to render records ChangesetRenderFailed and marks the execution failed', async () => {
    resolver.workspaces = [testWorkspace(A)];
    const reply = await apply(
      spec({ name: 'broken', branch: 'hello-${{ steps.modified_files }}' }),
    );
    if (!reply.ok) throw new Error(reply.error.diagnostics?.join('\n') ?? reply.error.message);
    await processed(campaignStream('broken'));
    const { id } = await patchComputed(reply.applyId, testWorkspace(A), { campaign: 'broken' });
    await processed(executionStream(id));

    const status = await statusUntil((s) => s.executions[0]?.state === 'failed', 'broken');
    expect(status.executions[0]!.message).toMatch(
      /^rendering the changeset template failed: changesetTemplate\.branch: /,
    );
    expect(status.phase).toBe('needs-attention');
    expect(status.changesets).toEqual([]);
    // Recorded in the log too, where audit finds it.
    const failed = (await read(executionStream(id))).filter(
      (e) => e.type === 'ChangesetRenderFailed',
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ executionId: id, campaign: 'broken', repository: A });
    expect((failed[0]!.data as { message: string }).message).toMatch(
      /^changesetTemplate\.branch: /,
    );
  });

  it('pages follow one another by cursor within their limit, and filter down to what failed', async () => {
    resolver.workspaces = [testWorkspace(A), testWorkspace(B), testWorkspace(C)];
    const reply = await apply(spec({ name: 'paged' }));
    if (!reply.ok) throw new Error(reply.error.message);
    await processed(campaignStream('paged'));
    await executionFailed(reply.applyId, B, 'paged');
    await patchComputed(reply.applyId, testWorkspace(A), { campaign: 'paged' });
    await patchComputed(reply.applyId, testWorkspace(C), { campaign: 'paged' });
    const status = await statusUntil((s) => s.changesets.length === 2, 'paged');
    expect(status.executions.map((e) => [e.repository, e.state])).toEqual([
      [A, 'succeeded'],
      [B, 'failed'],
      [C, 'succeeded'],
    ]);

    // One row a page: three pages of executions, each naming the next.
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 1; ; pages++) {
      const page: ApiReply<ExecutionsPage> = await request<ExecutionsPage>('executions', {
        campaign: 'paged',
        limit: 1,
        after,
      });
      if (!page.ok) throw new Error(page.error.message);
      expect(page.applyId).toBe(reply.applyId);
      expect(page.executions.length).toBeLessThanOrEqual(1);
      seen.push(...page.executions.map((e) => e.repository));
      after = page.next;
      if (after === null) break;
      expect(pages).toBeLessThan(4);
    }
    expect(seen).toEqual([A, B, C]);

    const failed = await request<ExecutionsPage>('executions', {
      campaign: 'paged',
      filter: 'failed',
    });
    expect(failed).toMatchObject({ ok: true, next: null, executions: [{ repository: B }] });
    const id = changesetId('paged', C, 'hello-world');
    const [specEvent] = await read(changesetStream(id));
    await reconcilerEvent(id, 'ReconcileFailed', {
      changesetId: id,
      campaign: 'paged',
      repository: C,
      headBranch: 'hello-world',
      specEventId: specEvent!.event_id,
      operation: 'push',
      retryable: false,
      attempt: 1,
      message: 'the repository is archived',
      httpStatus: 403,
      retryInMs: null,
    });
    await statusUntil((s) => s.counts.errored === 1, 'paged');
    const errored = await request<ChangesetsPage>('changesets', {
      campaign: 'paged',
      filter: 'errored',
    });
    expect(errored).toMatchObject({
      ok: true,
      next: null,
      changesets: [{ repository: C, lastError: 'the repository is archived', errorTerminal: true }],
    });

    // Campaigns page by name too.
    const names = await allPages('list', { limit: 2 }, (p: ListResult) =>
      p.campaigns.map((c) => c.campaign),
    );
    expect(names).toEqual(['broken', 'hello-world', 'other', 'paged', 'pubs', 'racing']);
  });

  it('refuses a page request it cannot answer, saying what is wrong', async () => {
    const cases: [ApiVerb, object, string][] = [
      ['changesets', { campaign: 'paged', after: 'not-a-cursor' }, 'invalid-request'],
      ['changesets', { campaign: 'paged', limit: 0 }, 'invalid-request'],
      ['executions', { campaign: 'paged', limit: 501 }, 'invalid-request'],
      ['executions', { campaign: 'paged', filter: 'errored' }, 'invalid-request'],
      ['executions', { campaign: 'paged', applyId: 'yesterday' }, 'invalid-request'],
      ['list', { limit: 1.5 }, 'invalid-request'],
      ['changesets', { campaign: 'nope' }, 'not-found'],
      ['executions', { campaign: 'nope' }, 'not-found'],
    ];
    for (const [verb, body, code] of cases) {
      const reply = await request(verb, body);
      expect({ verb, body, reply }).toMatchObject({ reply: { ok: false, error: { code } } });
    }
  });

  it('a consumer giving up on an event of the campaign shows as needs-attention, naming it, until the next apply', async () => {
    const before = await statusOf('pubs');
    expect(before.phase).toBe('complete');
    const consumer = 'reconciler_service_changesets';
    const dead = (await read(changesetStream(changesetId('pubs', A, 'hello-world'))))[0]!;
    await store.append(
      deadLetterStream(consumer),
      [
        {
          type: 'ConsumerDeadLettered',
          data: {
            consumer,
            eventId: dead.event_id,
            eventType: dead.type,
            streamId: dead.stream_id,
            campaign: 'pubs',
            error: 'relation "reconciler.changesets" does not exist',
            attempts: 5,
          },
        },
      ],
      {
        expected: 'any',
        metadata: {
          correlation_id: before.applyId,
          causation_id: dead.event_id,
          actor: 'alice',
          source: 'reconciler-service',
        },
      },
    );
    const stuck = await statusUntil((s) => s.phase === 'needs-attention', 'pubs');
    expect(stuck.counts.deadLettered).toBe(1);
    expect(stuck.problems).toEqual([
      {
        entry: `consumer ${consumer}`,
        message: `gave up on ChangesetSpecComputed ${dead.event_id} after 5 attempts: relation "reconciler.changesets" does not exist`,
      },
    ]);
    const list = await request<ListResult>('list', {});
    expect(list.ok && list.campaigns.find((c) => c.campaign === 'pubs')?.phase).toBe(
      'needs-attention',
    );

    // The live projection replays to the same rows, dead letters included.
    await processed(deadLetterStream(consumer), 'status');
    const replay = await replayProjection({
      store,
      database,
      projection: statusProjection(),
      liveSchema: SCHEMA,
    });
    expect(replay.differences).toEqual([]);
    expect(replay.tables.find((t) => t.name === 'status_dead_letters')!.replayedRows).toBe(1);

    // A new application starts afresh.
    resolver.workspaces = [];
    const again = await apply(spec({ name: 'pubs', published: 'true', title: 'Again' }));
    if (!again.ok) throw new Error(again.error.message);
    const fresh = await statusUntil((s) => s.applyId === again.applyId, 'pubs');
    expect(fresh.counts.deadLettered).toBe(0);
    expect(fresh.problems).toEqual([]);
  });
});
