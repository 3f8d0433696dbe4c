import { describe, expect, it } from '@jest/globals';
import { ZERO_SHA, type PullRequestAction } from '../state/events.js';
import { GithubJson } from '../representations/github-json.js';
import { commitShaFor, pingEvent, webhookEventFor, type WebhookEvent } from './payloads.js';
import {
  BASE_SHA,
  HEAD_SHA,
  NEXT_SHA,
  commitInfo,
  createWorld,
  type World,
} from './test-support/fixtures.js';
import { webhookSchemaErrors } from './test-support/webhook-schemas.js';

const urls = { web: 'http://127.0.0.1:3001', api: 'http://127.0.0.1:3001/api/v3' };

function render(world: World, index = -1, withCommit = true): WebhookEvent {
  const change = world.changes.at(index)!;
  const sha = commitShaFor(change);
  const event = webhookEventFor(
    change,
    new GithubJson(world.state, urls),
    withCommit && sha !== null ? commitInfo(sha) : null,
  );
  if (event === null) throw new Error(`no webhook for ${change.type}`);
  return event;
}

function expectSchemaValid(event: WebhookEvent): void {
  expect(webhookSchemaErrors(event.name, event.action, event.payload)).toEqual([]);
}

describe('pull_request payloads', () => {
  const actions: PullRequestAction[] = [
    'opened',
    'edited',
    'closed',
    'reopened',
    'synchronize',
    'ready_for_review',
    'converted_to_draft',
    'labeled',
    'unlabeled',
    'auto_merge_enabled',
    'auto_merge_disabled',
  ];

  it.each(actions)(
    'a pull_request %s payload is valid against GitHub’s schema for it',
    (action) => {
      // Given a pull request in an organization's repository, with a label and auto-merge set
      const world = createWorld();
      const label = world.state.getLabel(world.repository, 'enhancement')!;
      const pull = world.openPullRequest({
        labels: ['enhancement'],
        auto_merge: {
          enabled_by: 'alice',
          merge_method: 'squash',
          commit_title: null,
          commit_message: null,
        },
      });
      // When the state reports the action
      world.change({
        type: 'pull_request',
        action,
        pullRequest: pull,
        ...(action === 'edited'
          ? { changes: { title: { from: 'Old title' }, body: { from: null } } }
          : {}),
        ...(action === 'labeled' || action === 'unlabeled' ? { label } : {}),
        ...(action === 'synchronize' ? { before: HEAD_SHA, after: NEXT_SHA } : {}),
      });
      // Then its payload is what GitHub's webhook description says
      const event = render(world);
      expect(event).toMatchObject({ name: 'pull_request', action });
      expectSchemaValid(event);
    },
  );

  it('an opened payload names the pull request, its repository, the organization and the sender', () => {
    const world = createWorld();
    const pull = world.openPullRequest({ draft: true, by: 'alice' });
    world.change({ type: 'pull_request', action: 'opened', pullRequest: pull }, 'alice');

    const { payload } = render(world);

    expect(payload).toMatchObject({
      action: 'opened',
      number: pull.number,
      pull_request: {
        id: pull.id,
        node_id: pull.node_id,
        number: pull.number,
        state: 'open',
        draft: true,
        merged: false,
        title: 'Add Hello World',
        html_url: `http://127.0.0.1:3001/acme/widgets/pull/${pull.number}`,
        url: `http://127.0.0.1:3001/api/v3/repos/acme/widgets/pulls/${pull.number}`,
        head: {
          ref: 'hello-world',
          sha: HEAD_SHA,
          label: 'acme:hello-world',
          repo: { full_name: 'acme/widgets' },
        },
        base: { ref: 'main', sha: BASE_SHA },
        user: { login: 'alice', type: 'User' },
        author_association: 'MEMBER',
      },
      repository: {
        full_name: 'acme/widgets',
        owner: { login: 'acme', type: 'Organization' },
        private: false,
      },
      organization: { login: 'acme' },
      sender: { login: 'alice' },
    });
    // Hooks of a user's repository get no `organization`; hooks never get `installation` (no app).
    expect(payload).not.toHaveProperty('installation');
  });

  it('a closed payload of a merged pull request says who merged it and when', () => {
    const world = createWorld();
    const mergedAt = '2026-03-04T05:06:07Z';
    const pull = world.openPullRequest({
      state: 'closed',
      merged: true,
      merged_at: mergedAt,
      closed_at: mergedAt,
      merged_by: 'bob',
      merge_commit_sha: NEXT_SHA,
    });
    world.change({ type: 'pull_request', action: 'closed', pullRequest: pull }, 'bob');

    const event = render(world);

    expect(event.payload).toMatchObject({
      action: 'closed',
      pull_request: {
        state: 'closed',
        merged: true,
        merged_at: mergedAt,
        merged_by: { login: 'bob' },
        merge_commit_sha: NEXT_SHA,
      },
      sender: { login: 'bob' },
    });
    expectSchemaValid(event);
  });

  it('an edited payload carries the previous title and body in `changes`', () => {
    const world = createWorld();
    const pull = world.openPullRequest({ title: 'New title' });
    world.change({
      type: 'pull_request',
      action: 'edited',
      pullRequest: pull,
      changes: { title: { from: 'Old title' } },
    });

    expect(render(world).payload).toMatchObject({ changes: { title: { from: 'Old title' } } });
  });
});

describe('pull_request_review payloads', () => {
  it.each(['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED'] as const)(
    'a review submitted as %s is valid and spells its state as GitHub’s webhooks do',
    (state) => {
      const world = createWorld();
      const pull = world.openPullRequest();
      const review = world.review(pull, state, 'bob');
      world.change(
        { type: 'pull_request_review', action: 'submitted', review, pullRequest: pull },
        'bob',
      );

      const event = render(world);

      expect(event.payload).toMatchObject({
        action: 'submitted',
        review: {
          id: review.id,
          state: state.toLowerCase(),
          user: { login: 'bob' },
          commit_id: HEAD_SHA,
        },
        pull_request: { number: pull.number },
      });
      expectSchemaValid(event);
    },
  );
});

describe('check and status payloads', () => {
  it.each(['requested', 'completed'] as const)(
    'a check_suite %s payload is valid and lists the pull request of its head',
    (action) => {
      const world = createWorld();
      const pull = world.openPullRequest();
      const suite = world.checkSuite(HEAD_SHA, 'hello-world');
      if (action === 'completed')
        Object.assign(suite, { status: 'completed', conclusion: 'success' });
      world.change({ type: 'check_suite', action, checkSuite: suite });

      const event = render(world);

      expect(event.payload).toMatchObject({
        action,
        check_suite: {
          id: suite.id,
          head_sha: HEAD_SHA,
          app: { slug: 'github-actions' },
          pull_requests: [{ number: pull.number }],
        },
      });
      expectSchemaValid(event);
    },
  );

  it.each([
    ['created', 'in_progress', null],
    ['completed', 'completed', 'failure'],
  ] as const)('a check_run %s payload is valid', (action, status, conclusion) => {
    const world = createWorld();
    world.openPullRequest();
    const suite = world.checkSuite(HEAD_SHA, 'hello-world');
    const run = world.checkRun(suite, 'build', status, conclusion);
    world.change({ type: 'check_run', action, checkRun: run, checkSuite: suite });

    const event = render(world);

    expect(event.payload).toMatchObject({
      action,
      check_run: { id: run.id, name: 'build', status, conclusion },
    });
    expectSchemaValid(event);
  });

  it.each([true, false])('a status payload is valid (commit read from git: %s)', (withCommit) => {
    const world = createWorld();
    const status = world.status(HEAD_SHA, 'success');
    world.change({ type: 'status', status, branches: [{ name: 'hello-world', sha: HEAD_SHA }] });

    const event = render(world, -1, withCommit);

    expect(event).toMatchObject({ name: 'status' });
    expect(event.payload).toMatchObject({
      sha: HEAD_SHA,
      state: 'success',
      context: 'ci/build',
      name: 'acme/widgets',
      branches: [{ name: 'hello-world', commit: { sha: HEAD_SHA } }],
    });
    expect(event.payload).not.toHaveProperty('action');
    expectSchemaValid(event);
  });
});

describe('push payloads', () => {
  const commit = {
    id: NEXT_SHA,
    tree_id: 'e'.repeat(40),
    message: 'Append Hello',
    timestamp: '2026-01-02T03:04:05Z',
    author: { name: 'Alice', email: 'alice@example.com' },
    committer: { name: 'Alice', email: 'alice@example.com' },
    added: [],
    removed: [],
    modified: ['README.md'],
  };

  it.each([
    [
      'an update',
      {
        before: HEAD_SHA,
        after: NEXT_SHA,
        created: false,
        deleted: false,
        forced: false,
        commits: [commit],
      },
    ],
    [
      'a new branch',
      {
        before: ZERO_SHA,
        after: NEXT_SHA,
        created: true,
        deleted: false,
        forced: false,
        commits: [commit],
      },
    ],
    [
      'a force push',
      {
        before: HEAD_SHA,
        after: NEXT_SHA,
        created: false,
        deleted: false,
        forced: true,
        commits: [],
      },
    ],
    [
      'a deletion',
      {
        before: HEAD_SHA,
        after: ZERO_SHA,
        created: false,
        deleted: true,
        forced: false,
        commits: [],
      },
    ],
  ])('a push payload for %s is valid', (_name, push) => {
    const world = createWorld();
    world.change({
      type: 'push',
      ref: 'refs/heads/hello-world',
      pusher: world.state.requireAccount('alice'),
      ...push,
    });

    const event = render(world);

    expect(event.payload).toMatchObject({
      ref: 'refs/heads/hello-world',
      before: push.before,
      after: push.after,
    });
    expect(event.payload.head_commit === null).toBe(push.deleted);
    expectSchemaValid(event);
  });
});

describe('ping payloads', () => {
  it.each(['repository', 'organization'] as const)(
    'the ping of a new %s hook is valid',
    (scope) => {
      const world = createWorld();
      const org = world.state.requireAccount('acme');
      const hook = world.state.createHook({
        scope,
        owner_id: scope === 'repository' ? world.repository.id : org.id,
        url: 'http://127.0.0.1:9/hook',
        secret: 's3cret',
        events: ['pull_request'],
      });

      const event = pingEvent(
        hook,
        scope === 'repository'
          ? { repository: world.repository, sender: world.state.requireAccount('alice') }
          : { organization: org, sender: world.state.requireAccount('alice') },
        new GithubJson(world.state, urls),
        { code: null, status: 'unused', message: null },
      );

      expect(event.payload).toMatchObject({
        hook_id: hook.id,
        hook: {
          id: hook.id,
          type: scope === 'repository' ? 'Repository' : 'Organization',
          events: ['pull_request'],
        },
      });
      expect(JSON.stringify(event.payload)).not.toContain('s3cret');
      expectSchemaValid(event);
    },
  );
});

describe('the schema check itself', () => {
  it('rejects a payload GitHub would not send, so the checks above can fail', () => {
    const world = createWorld();
    world.change({ type: 'pull_request', action: 'opened', pullRequest: world.openPullRequest() });
    const payload = structuredClone(render(world).payload) as { pull_request: { state: string } };
    payload.pull_request.state = 'merged';

    expect(webhookSchemaErrors('pull_request', 'opened', payload)).toEqual([
      expect.stringContaining('/pull_request/state must be equal to one of the allowed values'),
    ]);
  });
});
