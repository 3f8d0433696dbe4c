import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CampaignSpec } from '@campaigns/campaign-spec';
import {
  campaignsCatalogue,
  campaignStream,
  deadLetterStream,
  EventRelay,
  PostgresEventStore,
  type EventsTopology,
  type StoredEvent,
  type WorkspaceData,
} from '@campaigns/events';
import {
  apiSubject,
  MAX_PAGE_ROWS,
  MAX_REPLY_BYTES,
  type ApiReply,
  type ApiVerb,
  type CampaignStatus,
  type ChangesetsPage,
  type ExecutionsPage,
  type ListResult,
  type Page,
  type PreviewPart,
} from '@campaigns/contracts';
import type { ResolvedWorkspaces, WorkspaceResolver } from '@campaigns/spec-service';
import { bearerHeaders, issueTestToken, startSpecService } from '@campaigns/spec-service/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  createTestDatabase,
  type TestDatabase,
  connectTestNats,
  deleteStream,
  eventually,
  TEST_NATS_CLI_URL,
  uniqueTopology,
} from '@campaigns/events/testing';
import { runCli } from '../cli.js';
import type { MatchedRepositories } from './repos.command.js';

const SCHEMA = 'spec_service';
const CAMPAIGN = 'huge';
const CHANGESETS = 10_000;
/** One execution in FAILED_EVERY fails, one changeset in ERRORED_EVERY has a terminal error. */
const FAILED_EVERY = 50;
const ERRORED_EVERY = 20;
const APPLY_ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const repository = (i: number) => `github.com/acme/repo-${String(i).padStart(5, '0')}`;

/** Answers with the workspaces it was last given, whatever the spec says. */
class GivenWorkspaces implements WorkspaceResolver {
  workspaces: WorkspaceData[] = [];
  resolve(_spec: CampaignSpec): Promise<ResolvedWorkspaces> {
    return Promise.resolve({ workspaces: this.workspaces, problems: [], imports: [] });
  }
}

const workspace = (i: number): WorkspaceData => ({
  repository: repository(i),
  branch: 'main',
  baseRevision: 'a'.repeat(40),
  path: '',
  searchResultPaths: ['README.md'],
});

const spec = (name: string) => `name: ${name}
on:
  - repositoriesMatchingQuery: file:README.md
steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Hello World
  body: My first campaign!
  branch: hello-world
  commit:
    message: Append Hello
  published: true
`;

describe(`campaign status, list and preview at ${CHANGESETS.toLocaleString('en-US')} changesets (real spec-service, PostgreSQL and NATS)`, () => {
  let db: TestDatabase;
  let nats: NatsConnection;
  let topology: EventsTopology;
  let store: PostgresEventStore;
  let relay: EventRelay;
  let service: Awaited<ReturnType<typeof startSpecService>> | undefined;
  let dir: string;
  const resolver = new GivenWorkspaces();
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase('cli_status_scale');
    nats = await connectTestNats();
    topology = uniqueTopology();
    store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    relay = new EventRelay({ store, nats, topology, pollIntervalMs: 10 });
    await relay.start();
    service = await startSpecService({ store, nats, topology, resolver, schema: SCHEMA });
    // A site admin, who acts in the site's namespace (default): the seeded campaigns' bare names.
    token = await issueTestToken(db.pool, 'alice', { schema: SCHEMA, siteAdmin: true });
    dir = mkdtempSync(join(tmpdir(), 'campaign-scale-'));
    await insertCampaign();
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    await relay?.stop();
    await deleteStream(nats, topology);
    await nats.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The projections' rows of a campaign of CHANGESETS repositories, written straight into the
   * tables (as the status projection and the process manager would after its apply): failed
   * executions carry the longest message and stderr tail the events allow, errored changesets
   * the longest error, so pages fill up by bytes before rows. Beside it, 700 small campaigns.
   */
  async function insertCampaign(): Promise<void> {
    const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
    await q(
      `INSERT INTO ${SCHEMA}.status_campaigns
         (campaign, apply_id, spec_hash, actor, applied_at, resolved, resolution_error, problems, updated_at)
       SELECT name, $1, repeat('a', 64), 'alice', now(), true, NULL, '[]', now()
         FROM (SELECT $2::text AS name UNION ALL
               SELECT 'small-' || lpad(i::text, 4, '0') FROM generate_series(1, 700) i) c`,
      [APPLY_ID, CAMPAIGN],
    );
    await q(
      `INSERT INTO ${SCHEMA}.status_executions
         (execution_id, campaign, apply_id, repository, path, state, message, stderr_tail, updated_at)
       SELECT md5('e' || i), $1, $2, 'github.com/acme/repo-' || lpad(i::text, 5, '0'), '',
              CASE WHEN i % $4 = 0 THEN 'failed' ELSE 'succeeded' END,
              CASE WHEN i % $4 = 0 THEN 'step 1 failed: ' || repeat('"m"', 1300) END,
              CASE WHEN i % $4 = 0 THEN repeat(E'\\t"s"\\n', 1600) || 'last line ' || i END, now()
         FROM generate_series(0, $3 - 1) i`,
      [CAMPAIGN, APPLY_ID, CHANGESETS, FAILED_EVERY],
    );
    await q(
      `INSERT INTO ${SCHEMA}.pm_executions (execution_id, campaign, apply_id, handled, render_error)
       SELECT execution_id, campaign, apply_id, true, NULL FROM ${SCHEMA}.status_executions`,
    );
    await q(
      `INSERT INTO ${SCHEMA}.status_changesets
         (changeset_id, campaign, repository, head_branch, wanted, published, spec_event_id,
          reconciled_spec_event_id, host_state, draft, checks, review, url, number, last_error,
          error_terminal, updated_at)
       SELECT md5('c' || i), $1, 'github.com/acme/repo-' || lpad(i::text, 5, '0'), 'hello-world',
              true, 'true', md5('s' || i)::uuid, md5('s' || i)::uuid, 'open', false, 'SUCCESS',
              NULL, 'https://github.com/acme/repo-' || lpad(i::text, 5, '0') || '/pull/' || (i + 1),
              i + 1, CASE WHEN i % $3 = 0 THEN 'push refused: ' || repeat('"x"', 1300) END,
              i % $3 = 0, now()
         FROM generate_series(0, $2 - 1) i`,
      [CAMPAIGN, CHANGESETS, ERRORED_EVERY],
    );
    await q(
      `INSERT INTO ${SCHEMA}.pm_changesets
         (changeset_id, campaign, repository, head_branch, workspace_path, removed, spec, last_event_id)
       SELECT changeset_id, campaign, repository, head_branch, '', false, NULL, spec_event_id
         FROM ${SCHEMA}.status_changesets`,
    );
  }

  /** One request; its reply's size is asserted before anything else. */
  async function request<T>(verb: ApiVerb, body: object): Promise<ApiReply<T>> {
    const msg = await nats.request(apiSubject(topology, verb), JSON.stringify(body), {
      timeout: 30_000,
      headers: bearerHeaders(token),
    });
    expect(msg.data.length).toBeLessThanOrEqual(MAX_REPLY_BYTES);
    return msg.json<ApiReply<T>>();
  }

  /** Every page of a verb: each within the bounds, together every row once, in order. */
  async function walk<P extends Page, R>(verb: ApiVerb, body: object, rowsOf: (page: P) => R[]) {
    const rows: R[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const reply: ApiReply<P> = await request<P>(verb, { ...body, after });
      if (!reply.ok) throw new Error(`${verb}: ${reply.error.message}`);
      const page = rowsOf(reply);
      expect(page.length).toBeGreaterThan(0);
      expect(page.length).toBeLessThanOrEqual(MAX_PAGE_ROWS);
      rows.push(...page);
      after = reply.next;
      pages++;
    } while (after !== null);
    return { rows, pages };
  }

  const env = () => ({
    NATS_URL: TEST_NATS_CLI_URL,
    EVENTS_STREAM: topology.streamName,
    EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
    CAMPAIGN_TOKEN: token,
    CAMPAIGN_POLL_INTERVAL_MS: '50',
    CAMPAIGN_REQUEST_TIMEOUT_MS: '30000',
  });
  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: env(),
      stderrIsTTY: false,
    });
    return { code, stdout, stderr };
  }

  it('answers the summary, every page of changesets, executions and campaigns, and each preview chunk within the reply bound', async () => {
    const summary = await request<CampaignStatus>('get', { campaign: CAMPAIGN });
    expect(summary).toMatchObject({
      ok: true,
      phase: 'needs-attention',
      counts: {
        workspaces: CHANGESETS,
        executed: CHANGESETS,
        failed: CHANGESETS / FAILED_EVERY,
        changesets: CHANGESETS,
        published: CHANGESETS,
        errored: CHANGESETS / ERRORED_EVERY,
        open: CHANGESETS,
        merged: 0,
        closed: 0,
        deadLettered: 0,
      },
    });

    const changesets = await walk('changesets', { campaign: CAMPAIGN }, (p: ChangesetsPage) =>
      p.changesets.map((c) => c.repository),
    );
    expect(changesets.rows).toEqual(Array.from({ length: CHANGESETS }, (_, i) => repository(i)));
    // The errored rows fill pages by bytes before MAX_PAGE_ROWS.
    expect(changesets.pages).toBeGreaterThan(CHANGESETS / MAX_PAGE_ROWS);

    const executions = await walk('executions', { campaign: CAMPAIGN }, (p: ExecutionsPage) =>
      p.executions.map((e) => e.repository),
    );
    expect(executions.rows).toEqual(Array.from({ length: CHANGESETS }, (_, i) => repository(i)));
    const failed = await walk(
      'executions',
      { campaign: CAMPAIGN, filter: 'failed' },
      (p: ExecutionsPage) => p.executions.map((e) => e.state),
    );
    expect(failed.rows).toEqual(Array(CHANGESETS / FAILED_EVERY).fill('failed'));

    const campaigns = await walk('list', {}, (p: ListResult) => p.campaigns.map((c) => c.campaign));
    expect(campaigns.rows).toHaveLength(701);
    expect(campaigns.pages).toBe(2);

    // Preview: one request, several bounded messages, the rows in order, then the end marker.
    resolver.workspaces = Array.from({ length: CHANGESETS + 10 }, (_, i) => workspace(i));
    const messages = await nats.requestMany(
      apiSubject(topology, 'preview'),
      JSON.stringify({ fileName: 'huge.campaign.yaml', specText: spec(CAMPAIGN) }),
      { strategy: 'sentinel', maxWait: 30_000, headers: bearerHeaders(token) },
    );
    const parts: PreviewPart[] = [];
    let ended = false;
    for await (const m of messages) {
      expect(m.data.length).toBeLessThanOrEqual(MAX_REPLY_BYTES);
      if (m.data.length === 0) {
        ended = true;
        break;
      }
      const reply = m.json<ApiReply<PreviewPart>>();
      if (!reply.ok) throw new Error(reply.error.message);
      parts.push(reply);
    }
    expect(ended).toBe(true);
    const [head, ...chunks] = parts;
    expect(head).toMatchObject({ head: { campaign: CAMPAIGN, rowCount: CHANGESETS + 10 } });
    const rows = chunks.flatMap((c) => ('rows' in c ? c.rows : []));
    expect(rows.map((r) => r.action)).toEqual([
      ...Array(CHANGESETS).fill('unchanged'),
      ...Array(10).fill('create'),
    ]);
    expect(chunks.length).toBeGreaterThanOrEqual((CHANGESETS + 10) / MAX_PAGE_ROWS);
  }, 120_000);

  it('campaign status prints every changeset and every failed execution', async () => {
    const r = await cli('status', CAMPAIGN);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [header, failures] = r.stdout.split('\nFailed executions:\n');
    expect(header).toContain(
      `${CHANGESETS} workspaces: ${CHANGESETS} executed, ${CHANGESETS / FAILED_EVERY} failed; ` +
        `${CHANGESETS} changesets: ${CHANGESETS} open; ${CHANGESETS / ERRORED_EVERY} errored`,
    );
    const changesetLines = header!.split('\n').filter((l) => l.startsWith('github.com/acme/'));
    expect(changesetLines).toHaveLength(CHANGESETS);
    expect(changesetLines.filter((l) => l.includes('push refused'))).toHaveLength(
      CHANGESETS / ERRORED_EVERY,
    );
    const failureLines = failures!.split('\n').filter((l) => l.startsWith('github.com/acme/'));
    expect(failureLines).toHaveLength(CHANGESETS / FAILED_EVERY);
    expect(failureLines[1]).toMatch(/last line 50$/);
  }, 120_000);

  it('campaign repos lists the repositories the spec matches now, and those it no longer matches', async () => {
    // Five repositories of the campaign stay matched, three are new; the rest are no longer.
    resolver.workspaces = [0, 1, 2, 3, 4, CHANGESETS, CHANGESETS + 1, CHANGESETS + 2].map(
      workspace,
    );
    const file = join(dir, 'huge.campaign.yaml');
    writeFileSync(file, spec(CAMPAIGN));
    const r = await cli('repos', '-f', file, '-o', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const matched = JSON.parse(r.stdout) as MatchedRepositories;
    expect(matched.repositories).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => ({ repository: repository(i), changesets: ['hello-world'] })),
      ...[0, 1, 2].map((i) => ({ repository: repository(CHANGESETS + i), changesets: [] })),
    ]);
    expect(matched.noLongerMatched).toHaveLength(CHANGESETS - 5);
    expect(matched.noLongerMatched[0]).toBe(repository(5));
  }, 120_000);

  it('apply --wait stops and exits 3 when a consumer gives up on an event of the apply, naming it', async () => {
    resolver.workspaces = [workspace(0), workspace(1)];
    const file = join(dir, 'stuck.campaign.yaml');
    writeFileSync(file, spec('stuck'));
    const waiting = cli('apply', '-f', file, '--wait');

    // The apply is recorded and its executions queued; nothing runs them.
    let specApplied: StoredEvent<{ applyId: string }> | undefined;
    expect(
      await eventually(async () => {
        [specApplied] = (await store.readStream(campaignStream('stuck'))) as (typeof specApplied)[];
        const status = await request<CampaignStatus>('get', { campaign: 'stuck' });
        return status.ok && status.phase === 'executing' && status.counts.workspaces === 2;
      }, 30_000),
    ).toBe(true);
    const consumer = 'executor_service_dispatcher';
    await store.append(
      deadLetterStream(consumer),
      [
        {
          type: 'ConsumerDeadLettered',
          data: {
            consumer,
            eventId: specApplied!.event_id,
            eventType: 'SpecApplied',
            streamId: specApplied!.stream_id,
            campaign: 'stuck',
            error: 'the jobs stream is gone',
            attempts: 5,
          },
        },
      ],
      {
        expected: 'any',
        metadata: {
          correlation_id: specApplied!.data.applyId,
          causation_id: specApplied!.event_id,
          actor: 'alice',
          source: 'executor-service',
        },
      },
    );

    const r = await waiting;
    expect(r.code).toBe(3);
    expect(r.stderr.split('\n').at(-2)).toBe(
      'stuck: needs-attention — 2 workspaces: 0 executed, 0 failed; 0 changesets',
    );
    expect(r.stdout).toContain('Campaign stuck: needs-attention\n');
    expect(r.stdout).toContain(
      `  consumer ${consumer}: gave up on SpecApplied ${specApplied!.event_id} after 5 attempts: the jobs stream is gone\n`,
    );
  }, 120_000);
});
