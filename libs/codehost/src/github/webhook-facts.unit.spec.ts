import { describe, expect, it } from '@jest/globals';
import {
  checkConclusionState,
  commitStatusState,
  reviewDecisionOf,
  webhookFacts,
} from './webhook-facts.js';

const repo = 'github.com/acme/api';
const sender = { login: 'octocat' };
const pr = {
  number: 7,
  html_url: 'https://github.com/acme/api/pull/7',
  title: 'Hello',
  state: 'closed',
  merged: false,
  merged_at: null,
  draft: true,
  head: { sha: 'a'.repeat(40), ref: 'hello' },
};

describe('webhookFacts', () => {
  it('describes a pull_request delivery, telling merged from closed', () => {
    const facts = webhookFacts({
      id: 'd1',
      event: 'pull_request',
      action: 'closed',
      repo,
      payload: { action: 'closed', number: 7, pull_request: pr, sender },
    });
    expect(facts).toEqual({
      trigger: 'pull_request.closed',
      repository: repo,
      target: { numbers: [7] },
      fields: {
        url: pr.html_url,
        title: 'Hello',
        state: 'closed',
        draft: true,
        headRefOid: pr.head.sha,
      },
      sender: 'octocat',
    });
    const merged = webhookFacts({
      id: 'd2',
      event: 'pull_request',
      action: 'closed',
      repo,
      payload: { number: 7, pull_request: { ...pr, merged: true }, sender },
    });
    expect(merged?.fields.state).toBe('merged');
  });

  it('ignores pull_request actions that change nothing the reconciler follows, and unknown events', () => {
    const base = { id: 'd', repo, payload: { number: 7, pull_request: pr } };
    expect(webhookFacts({ ...base, event: 'pull_request', action: 'labeled' })).toBeNull();
    expect(webhookFacts({ ...base, event: 'issues', action: 'opened' })).toBeNull();
    expect(webhookFacts({ ...base, event: 'ping' })).toBeNull();
    expect(
      webhookFacts({ id: 'd', event: 'pull_request', action: 'opened', payload: {} }),
    ).toBeNull();
  });

  it('targets a check by its commit and reports it with its order, a rerequested one as pending', () => {
    const sha = 'b'.repeat(40);
    const suite = (action: string) =>
      webhookFacts({
        id: 'd3',
        event: 'check_suite',
        action,
        repo,
        payload: {
          check_suite: {
            id: 9,
            head_sha: sha,
            status: 'completed',
            conclusion: 'timed_out',
            updated_at: '2026-12-05T10:00:00Z',
            app: { slug: 'ci' },
            pull_requests: [],
          },
        },
      });
    expect(suite('completed')).toMatchObject({
      target: { headSha: sha },
      fields: { headRefOid: sha },
      check: { kind: 'check_suite', name: 'ci', suiteId: 9, state: 'FAILURE' },
    });
    const rerun = suite('rerequested')!;
    expect(rerun.check?.state).toBe('PENDING');
    expect(rerun.check!.order[2]).toBeGreaterThan(suite('completed')!.check!.order[2]!);
    const run = webhookFacts({
      id: 'd4',
      event: 'check_run',
      action: 'created',
      repo,
      payload: {
        check_run: {
          id: 11,
          name: 'build',
          head_sha: sha,
          status: 'in_progress',
          started_at: '2026-12-05T10:00:00Z',
          app: { slug: 'ci' },
          check_suite: { id: 9 },
        },
      },
    });
    expect(run?.check).toMatchObject({
      kind: 'check_run',
      name: 'ci/build',
      suiteId: 9,
      state: 'PENDING',
    });
  });

  it('targets a status by its commit, named by its context', () => {
    const facts = webhookFacts({
      id: 'd5',
      event: 'status',
      repo,
      payload: { id: 4, sha: 'd'.repeat(40), state: 'error', context: 'ci/lint', sender },
    });
    expect(facts).toMatchObject({ trigger: 'status', target: { headSha: 'd'.repeat(40) } });
    expect(facts?.check).toMatchObject({ kind: 'status', name: 'ci/lint', state: 'ERROR' });
  });
});

describe('state mappings', () => {
  it('maps review states to a review decision', () => {
    expect(reviewDecisionOf('submitted', { state: 'approved' })).toBe('APPROVED');
    expect(reviewDecisionOf('submitted', { state: 'CHANGES_REQUESTED' })).toBe('CHANGES_REQUESTED');
    expect(reviewDecisionOf('submitted', { state: 'commented' })).toBeUndefined();
    expect(reviewDecisionOf('dismissed', { state: 'dismissed' })).toBe('REVIEW_REQUIRED');
  });

  it('maps check conclusions and commit status states to a checks state', () => {
    expect(
      ['success', 'neutral', 'skipped', 'failure', 'action_required', 'cancelled', 'stale'].map(
        checkConclusionState,
      ),
    ).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILURE', 'FAILURE', 'FAILURE', 'FAILURE']);
    expect(['success', 'failure', 'error', 'pending', 'weird'].map(commitStatusState)).toEqual([
      'SUCCESS',
      'FAILURE',
      'ERROR',
      'PENDING',
      undefined,
    ]);
  });
});
