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

  it('keeps only the pull requests whose head is the checked commit', () => {
    const sha = 'b'.repeat(40);
    const facts = webhookFacts({
      id: 'd3',
      event: 'check_suite',
      action: 'completed',
      repo,
      payload: {
        check_suite: {
          head_sha: sha,
          status: 'completed',
          conclusion: 'timed_out',
          pull_requests: [
            { number: 1, head: { sha } },
            { number: 2, head: { sha: 'c'.repeat(40) } },
          ],
        },
      },
    });
    expect(facts?.target).toEqual({ numbers: [1] });
    expect(facts?.fields).toEqual({ checks: 'FAILURE', headRefOid: sha });
    expect(
      webhookFacts({
        id: 'd4',
        event: 'check_run',
        action: 'created',
        repo,
        payload: {
          check_run: {
            head_sha: sha,
            status: 'in_progress',
            pull_requests: [{ number: 1, head: { sha } }],
          },
        },
      }),
    ).toBeNull();
  });

  it('targets a status by its commit', () => {
    const facts = webhookFacts({
      id: 'd5',
      event: 'status',
      repo,
      payload: { sha: 'd'.repeat(40), state: 'error', sender },
    });
    expect(facts).toMatchObject({ trigger: 'status', target: { headSha: 'd'.repeat(40) } });
    expect(facts?.fields).toEqual({ checks: 'ERROR' });
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
    ).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILURE', 'FAILURE', 'ERROR', 'PENDING']);
    expect(['success', 'failure', 'error', 'pending', 'weird'].map(commitStatusState)).toEqual([
      'SUCCESS',
      'FAILURE',
      'ERROR',
      'PENDING',
      undefined,
    ]);
  });
});
