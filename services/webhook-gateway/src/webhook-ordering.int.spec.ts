import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@campaigns/events/testing';
import {
  pullRequestPayload,
  repository,
  startGatewayHarness,
  type GatewayHarness,
} from './test-support/gateway-harness.js';

const sha = (c: string) => c.repeat(40);

function checkRun(
  repo: string,
  run: { id: number; name: string; head: string; status: string; conclusion?: string; at: string },
) {
  return JSON.stringify({
    action: run.status === 'completed' ? 'completed' : 'created',
    check_run: {
      id: run.id,
      name: run.name,
      head_sha: run.head,
      status: run.status,
      conclusion: run.conclusion ?? null,
      started_at: run.at,
      completed_at: run.status === 'completed' ? run.at : null,
      app: { slug: 'ci' },
      check_suite: { id: 500 },
      pull_requests: [],
    },
    repository: { full_name: `acme/${repo}` },
    sender: { login: 'ci-bot' },
  });
}

function status(repo: string, s: { id: number; head: string; state: string; context: string }) {
  return JSON.stringify({
    id: s.id,
    sha: s.head,
    state: s.state,
    context: s.context,
    updated_at: '2026-12-05T10:00:00Z',
    repository: { full_name: `acme/${repo}` },
    sender: { login: 'ci-bot' },
  });
}

describe('webhook-gateway orders what deliveries report and rolls checks up', () => {
  let gw: GatewayHarness;

  beforeAll(async () => {
    gw = await startGatewayHarness();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('Given a newer pull request state recorded, when an older delivery arrives late, then it changes nothing', async () => {
    const id = await gw.track('late', 1, sha('a'));
    const newer = await gw.deliver(
      'pull_request',
      pullRequestPayload('late', {
        number: 1,
        action: 'closed',
        state: 'closed',
        headSha: sha('a'),
        updatedAt: '2026-12-05T10:00:05Z',
      }),
    );
    expect(newer.status).toBe(200);
    // GitHub does not order deliveries: the edit made before the close arrives after it.
    const older = await gw.deliver(
      'pull_request',
      pullRequestPayload('late', {
        number: 1,
        title: 'Renamed before the close',
        headSha: sha('a'),
        updatedAt: '2026-12-05T10:00:01Z',
      }),
    );
    expect(older).toEqual({ status: 202, body: { ignored: 'stale' } });
    // A push of the same second names the new head; a delivery of that second naming the
    // replaced head is older.
    const pushed = await gw.deliver(
      'pull_request',
      pullRequestPayload('late', {
        number: 1,
        action: 'synchronize',
        state: 'closed',
        headSha: sha('b'),
        before: sha('a'),
        updatedAt: '2026-12-05T10:00:09Z',
      }),
    );
    expect(pushed.status).toBe(200);
    const sameSecond = await gw.deliver(
      'pull_request',
      pullRequestPayload('late', {
        number: 1,
        state: 'open',
        headSha: sha('a'),
        updatedAt: '2026-12-05T10:00:09Z',
      }),
    );
    expect(sameSecond).toEqual({ status: 202, body: { ignored: 'stale' } });
    expect(
      (await gw.observations(id)).map((o) => [o['trigger'], o['state'], o['headRefOid']]),
    ).toEqual([
      ['pull_request.closed', 'closed', sha('a')],
      ['pull_request.synchronize', 'closed', sha('b')],
    ]);
  });

  it('Given a failing check, when another check of the head commit passes, then the checks stay failed until the failing one passes', async () => {
    const head = sha('c');
    const id = await gw.track('rollup', 2, head);
    const at = '2026-12-05T10:00:00Z';
    await gw.deliver(
      'check_run',
      checkRun('rollup', { id: 1, name: 'build', head, status: 'in_progress', at }),
    );
    await gw.deliver(
      'check_run',
      checkRun('rollup', {
        id: 1,
        name: 'build',
        head,
        status: 'completed',
        conclusion: 'failure',
        at,
      }),
    );
    await gw.deliver(
      'status',
      status('rollup', { id: 7, head, state: 'success', context: 'ci/lint' }),
    );
    // The run's in-progress report, delivered late, is older than its completion.
    const late = await gw.deliver(
      'check_run',
      checkRun('rollup', { id: 1, name: 'build', head, status: 'in_progress', at }),
    );
    expect(late).toEqual({ status: 202, body: { ignored: 'stale' } });
    // Re-run: a new run of the same check passes.
    await gw.deliver(
      'check_run',
      checkRun('rollup', {
        id: 2,
        name: 'build',
        head,
        status: 'completed',
        conclusion: 'success',
        at,
      }),
    );
    expect((await gw.observations(id)).map((o) => [o['trigger'], o['checks']])).toEqual([
      ['check_run.created', 'PENDING'],
      ['check_run.completed', 'FAILURE'],
      ['status', 'FAILURE'],
      ['check_run.completed', 'SUCCESS'],
    ]);
  });

  it('Given a completed check suite, when it is rerequested, then its stale conclusion is not recorded: the checks are pending again', async () => {
    const head = sha('d');
    const id = await gw.track('rerun', 3, head);
    const suite = (action: string, updatedAt: string, conclusion = 'success') =>
      JSON.stringify({
        action,
        check_suite: {
          id: 900,
          head_sha: head,
          status: 'completed',
          conclusion,
          updated_at: updatedAt,
          app: { slug: 'ci' },
          pull_requests: [],
        },
        repository: { full_name: 'acme/rerun' },
        sender: { login: 'someone' },
      });
    await gw.deliver('check_suite', suite('completed', '2026-12-05T10:00:00Z', 'failure'));
    // GitHub's rerequested payload still shows the last conclusion.
    await gw.deliver('check_suite', suite('rerequested', '2026-12-05T10:01:00Z', 'failure'));
    await gw.deliver('check_suite', suite('completed', '2026-12-05T10:02:00Z', 'success'));
    expect((await gw.observations(id)).map((o) => [o['trigger'], o['checks']])).toEqual([
      ['check_suite.completed', 'FAILURE'],
      ['check_suite.rerequested', 'PENDING'],
      ['check_suite.completed', 'SUCCESS'],
    ]);
  });

  it("decides the review from every reviewer's latest review, not the last delivered", async () => {
    const id = await gw.track('review', 4, sha('e'));
    const review = (reviewer: string, reviewId: number, state: string, action = 'submitted') =>
      JSON.stringify({
        action,
        review: { id: reviewId, state, user: { login: reviewer } },
        pull_request: {
          number: 4,
          html_url: 'https://github.test/acme/review/pull/4',
          title: 'Hello World',
          state: 'open',
          draft: false,
          updated_at: '2026-12-05T10:00:00Z',
          head: { sha: sha('e') },
        },
        repository: { full_name: 'acme/review' },
        sender: { login: reviewer },
      });
    await gw.deliver('pull_request_review', review('ada', 1, 'changes_requested'));
    await gw.deliver('pull_request_review', review('bob', 2, 'approved'));
    await gw.deliver('pull_request_review', review('ada', 1, 'dismissed', 'dismissed'));
    expect((await gw.observations(id)).map((o) => o['reviewDecision'])).toEqual([
      'CHANGES_REQUESTED',
      'CHANGES_REQUESTED',
      'APPROVED',
    ]);
  });

  it('Given deliveries that arrive before the pull request is tracked, when the reconciler’s event is projected, then they are recorded', async () => {
    const head = sha('f');
    // CI reports on the pushed commit, and a person edits the pull request, while the
    // reconciler is still recording the pull request it opened.
    const early = await gw.deliver(
      'status',
      status('early', { id: 70, head, state: 'failure', context: 'ci' }),
    );
    expect(early).toEqual({ status: 202, body: { held: 'untracked' } });
    const edited = await gw.deliver(
      'pull_request',
      pullRequestPayload('early', { number: 5, title: 'Edited early', headSha: head }),
    );
    expect(edited).toEqual({ status: 202, body: { held: 'untracked' } });
    const id = await gw.track('early', 5, head);
    const recorded = await eventually(async () => (await gw.observations(id)).length === 2);
    expect(recorded).toBe(true);
    const observed = await gw.observations(id);
    expect(observed).toContainEqual(
      expect.objectContaining({ trigger: 'status', checks: 'FAILURE' }),
    );
    expect(observed).toContainEqual(
      expect.objectContaining({ trigger: 'pull_request.edited', title: 'Edited early' }),
    );
    const { rows } = await gw.db.pool.query(
      'SELECT 1 FROM webhook_gateway.parked_deliveries WHERE repository = $1',
      [repository('early')],
    );
    expect(rows).toEqual([]);
  });
});
