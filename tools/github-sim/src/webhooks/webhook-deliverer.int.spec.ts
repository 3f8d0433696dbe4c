import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Faults } from '../limits/faults.js';
import { GithubJson } from '../representations/github-json.js';
import type { Hook, PullRequest } from '../state/model.js';
import { hookDeliveryItemJson, hookDeliveryJson } from './delivery-log.js';
import { createWorld, HEAD_SHA, NEXT_SHA, type World } from './test-support/fixtures.js';
import { startWebhookReceiver, type WebhookReceiver } from './test-support/webhook-receiver.js';
import { restSchemaErrors, webhookSchemaErrors } from './test-support/webhook-schemas.js';
import { WebhookDeliverer, type WebhookDelivererOptions } from './webhook-deliverer.js';

const SECRET = 'It’s a Secret to Everybody';
const urls = { web: 'http://127.0.0.1:3001', api: 'http://127.0.0.1:3001/api/v3' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let world: World;
let receiver: WebhookReceiver;
let deliverer: WebhookDeliverer;
let faults: Faults;

beforeEach(async () => {
  world = createWorld();
  receiver = await startWebhookReceiver(SECRET);
  faults = new Faults({ seed: 42 });
});

afterEach(async () => {
  deliverer?.stop();
  await receiver.close();
});

function startDeliverer(options: Partial<WebhookDelivererOptions> = {}): WebhookDeliverer {
  deliverer = new WebhookDeliverer({
    state: world.state,
    json: new GithubJson(world.state, urls),
    faults,
    retry: { maxAttempts: 3, initialBackoffMs: 20, factor: 2 },
    timeoutMs: 2000,
    ...options,
  });
  deliverer.start();
  return deliverer;
}

function repositoryHook(events: string[] = ['pull_request'], extra: Partial<Hook> = {}): Hook {
  return world.state.createHook({
    scope: 'repository',
    owner_id: world.repository.id,
    url: receiver.url,
    secret: SECRET,
    events,
    ...extra,
  });
}

function pullRequestChange(
  pull: PullRequest,
  action: 'opened' | 'edited' | 'closed' | 'labeled' = 'opened',
): void {
  world.change({ type: 'pull_request', action, pullRequest: pull });
}

describe('delivering', () => {
  it('posts each change to the hooks that subscribe to it, signed, with GitHub’s headers', async () => {
    // Given a repository hook for pull_request events with a secret
    const hook = repositoryHook();
    startDeliverer();
    // When a pull request is opened
    const pull = world.openPullRequest();
    pullRequestChange(pull);
    // Then the receiver gets one delivery that @octokit/webhooks verifies
    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.signatureValid).toBe(true);
    expect(delivery!.headers).toMatchObject({
      'x-github-event': 'pull_request',
      'x-github-hook-id': String(hook.id),
      'x-github-hook-installation-target-type': 'repository',
      'x-github-hook-installation-target-id': String(world.repository.id),
      'content-type': 'application/json',
      accept: '*/*',
    });
    expect(delivery!.headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
    expect(delivery!.guid).toMatch(UUID);
    expect(delivery!.headers['x-hub-signature']).toMatch(/^sha1=[0-9a-f]{40}$/);
    expect(delivery!.payload).toMatchObject({ action: 'opened', number: pull.number });
    expect(webhookSchemaErrors('pull_request', 'opened', delivery!.payload)).toEqual([]);
  });

  it('sends nothing to a hook that does not subscribe to the event, everything to one with "*"', async () => {
    repositoryHook(['push']);
    const wildcard = repositoryHook(['*']);
    startDeliverer();

    pullRequestChange(world.openPullRequest());
    await deliverer.idle();

    expect(receiver.deliveries.map((d) => d.headers['x-github-hook-id'])).toEqual([
      String(wildcard.id),
    ]);
  });

  it('delivers events of an organization’s repositories to the organization’s hooks', async () => {
    const org = world.state.requireAccount('acme');
    const hook = world.state.createHook({
      scope: 'organization',
      owner_id: org.id,
      url: receiver.url,
      secret: SECRET,
      events: ['pull_request'],
    });
    startDeliverer();

    pullRequestChange(world.openPullRequest());

    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.headers).toMatchObject({
      'x-github-hook-id': String(hook.id),
      'x-github-hook-installation-target-type': 'organization',
      'x-github-hook-installation-target-id': String(org.id),
    });
    expect(delivery!.payload).toMatchObject({ organization: { login: 'acme' } });
  });

  it('keeps the order of changes for one hook', async () => {
    repositoryHook();
    startDeliverer();
    const pull = world.openPullRequest();

    for (const action of ['opened', 'edited', 'labeled', 'closed'] as const)
      pullRequestChange(pull, action);

    const deliveries = await receiver.waitFor(4);
    expect(deliveries.map((d) => d.payload.action)).toEqual([
      'opened',
      'edited',
      'labeled',
      'closed',
    ]);
  });

  it('sends no signature headers to a hook without a secret', async () => {
    repositoryHook(['pull_request'], { secret: null });
    startDeliverer();

    pullRequestChange(world.openPullRequest());

    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.headers).not.toHaveProperty('x-hub-signature-256');
    expect(delivery!.headers).not.toHaveProperty('x-hub-signature');
  });

  it('sends `payload=<json>` form bodies, still signed over the exact body, to form hooks', async () => {
    repositoryHook(['pull_request'], { content_type: 'form' });
    startDeliverer();

    pullRequestChange(world.openPullRequest());

    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(delivery!.body.startsWith('payload=')).toBe(true);
    expect(delivery!.signatureValid).toBe(true);
  });

  it('pings a hook with a schema-valid ping whatever events it subscribes to', async () => {
    const hook = repositoryHook(['push']);
    startDeliverer();

    const record = await deliverer.ping(hook, 'alice');

    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.event).toBe('ping');
    expect(delivery!.payload).toMatchObject({ hook_id: hook.id, sender: { login: 'alice' } });
    expect(webhookSchemaErrors('ping', undefined, delivery!.payload)).toEqual([]);
    expect(record).toMatchObject({ event: 'ping', statusCode: 200, ok: true, status: 'OK' });
  });

  it('reads the commit of a status from git to describe it in full', async () => {
    repositoryHook(['status']);
    startDeliverer({
      readCommit: async (_repository, sha) => ({
        sha,
        tree: 'e'.repeat(40),
        parents: [],
        author: { name: 'Alice', email: 'alice@example.com', date: '2026-01-02T03:04:05Z' },
        committer: { name: 'Alice', email: 'alice@example.com', date: '2026-01-02T03:04:05Z' },
        message: 'Append Hello',
      }),
    });

    world.change({ type: 'status', status: world.status(HEAD_SHA, 'success'), branches: [] });

    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.payload).toMatchObject({
      commit: { sha: HEAD_SHA, commit: { message: 'Append Hello' } },
      state: 'success',
    });
    expect(webhookSchemaErrors('status', undefined, delivery!.payload)).toEqual([]);
  });
});

describe('failures, retries and redelivery', () => {
  it('retries a delivery the receiver refused, with the same delivery id, until it is accepted', async () => {
    // Given a receiver that answers 500 twice, then 200
    repositoryHook();
    receiver.respond((n) => ({ status: n < 2 ? 500 : 200 }));
    startDeliverer();
    // When a pull request is opened
    pullRequestChange(world.openPullRequest());
    await receiver.waitFor(3);
    await deliverer.idle();
    // Then three attempts are logged for one guid, the last one accepted
    const log = deliverer.deliveries();
    expect(log.map((r) => [r.attempt, r.statusCode, r.status])).toEqual([
      [1, 500, 'Invalid HTTP Response: 500'],
      [2, 500, 'Invalid HTTP Response: 500'],
      [3, 200, 'OK'],
    ]);
    expect(new Set(log.map((r) => r.guid)).size).toBe(1);
    expect(new Set(receiver.deliveries.map((d) => d.body)).size).toBe(1);
    // And the retries waited longer each time (20 ms, then 40 ms)
    const [first, second, third] = receiver.deliveries.map((d) => d.receivedAt);
    expect(second! - first!).toBeGreaterThanOrEqual(15);
    expect(third! - second!).toBeGreaterThanOrEqual(35);
  });

  it('gives up after the last attempt and says why in the log', async () => {
    repositoryHook();
    receiver.respond(() => ({ status: 404 }));
    startDeliverer();

    pullRequestChange(world.openPullRequest());
    await receiver.waitFor(3);
    await deliverer.idle();

    expect(deliverer.deliveries().map((r) => r.ok)).toEqual([false, false, false]);
    expect(deliverer.lastResponse(deliverer.deliveries()[0]!.hookId)).toEqual({
      code: 404,
      status: 'misconfigured',
      message: 'Invalid HTTP Response: 404',
    });
  });

  it('counts a receiver slower than the timeout as failed ("timed out") and retries it', async () => {
    repositoryHook();
    receiver.respond((n) => ({ status: 200, delayMs: n === 0 ? 1000 : 0 }));
    startDeliverer({ timeoutMs: 200 });

    pullRequestChange(world.openPullRequest());
    await receiver.waitFor(2);
    await deliverer.idle();

    expect(deliverer.deliveries().map((r) => [r.attempt, r.statusCode, r.status])).toEqual([
      [1, null, 'timed out'],
      [2, 200, 'OK'],
    ]);
  });

  it('reports an unreachable receiver as "failed to connect to host"', async () => {
    const closed = await startWebhookReceiver(SECRET);
    const url = closed.url;
    await closed.close();
    world.state.createHook({
      scope: 'repository',
      owner_id: world.repository.id,
      url,
      secret: SECRET,
      events: ['pull_request'],
    });
    startDeliverer({ retry: { maxAttempts: 1 } });

    pullRequestChange(world.openPullRequest());
    await deliverer.idle();

    expect(deliverer.deliveries()).toEqual([
      expect.objectContaining({ statusCode: null, status: 'failed to connect to host', ok: false }),
    ]);
  });

  it('redelivers a logged delivery with the same id and body, marked as a redelivery', async () => {
    repositoryHook();
    startDeliverer();
    pullRequestChange(world.openPullRequest());
    await receiver.waitFor(1);
    await deliverer.idle();
    const original = deliverer.deliveries()[0]!;

    const again = await deliverer.redeliver(original.id);

    const [first, second] = await receiver.waitFor(2);
    expect(second!.guid).toBe(first!.guid);
    expect(second!.body).toBe(first!.body);
    expect(second!.signatureValid).toBe(true);
    expect(again).toMatchObject({ guid: original.guid, redelivery: true, statusCode: 200 });
    expect(again.id).not.toBe(original.id);
  });

  it('refuses to redeliver a delivery it never made', async () => {
    startDeliverer();
    await expect(deliverer.redeliver(999)).rejects.toThrow('No webhook delivery 999');
  });

  it('renders its log as GitHub’s hook-delivery and hook-delivery-item', async () => {
    repositoryHook();
    startDeliverer();
    pullRequestChange(world.openPullRequest());
    await receiver.waitFor(1);
    await deliverer.idle();
    const record = deliverer.deliveries()[0]!;

    expect(restSchemaErrors('hook-delivery-item', hookDeliveryItemJson(record))).toEqual([]);
    expect(restSchemaErrors('hook-delivery', hookDeliveryJson(record))).toEqual([]);
    expect(hookDeliveryJson(record)).toMatchObject({
      guid: record.guid,
      event: 'pull_request',
      action: 'opened',
      status_code: 200,
      request: { headers: { 'X-GitHub-Event': 'pull_request' }, payload: { action: 'opened' } },
      response: { payload: 'thanks' },
    });
  });
});

describe('faults', () => {
  it('sends every delivery twice with the same id when the duplicate rate is 1', async () => {
    repositoryHook();
    faults.configure({
      webhooks: { duplicateRate: 1, reorderRate: 0, failureRate: 0, latency: { kind: 'none' } },
    });
    startDeliverer();

    pullRequestChange(world.openPullRequest());
    const deliveries = await receiver.waitFor(2);
    await deliverer.idle();

    expect(deliveries[0]!.guid).toBe(deliveries[1]!.guid);
    expect(deliveries[0]!.body).toBe(deliveries[1]!.body);
    expect(deliverer.deliveries().map((r) => r.duplicate)).toEqual([false, true]);
  });

  it('sends a delivery held back by the reorder fault after the next one', async () => {
    repositoryHook();
    faults.configure({
      webhooks: { duplicateRate: 0, reorderRate: 1, failureRate: 0, latency: { kind: 'none' } },
    });
    startDeliverer({ reorderWindowMs: 500 });
    const pull = world.openPullRequest();

    pullRequestChange(pull, 'opened');
    pullRequestChange(pull, 'edited');

    const deliveries = await receiver.waitFor(2);
    expect(deliveries.map((d) => d.payload.action)).toEqual(['edited', 'opened']);
  });

  it('delays every delivery by the configured latency', async () => {
    repositoryHook();
    faults.configure({
      webhooks: {
        duplicateRate: 0,
        reorderRate: 0,
        failureRate: 0,
        latency: { kind: 'fixed', ms: 300 },
      },
    });
    startDeliverer();

    const changedAt = Date.now();
    pullRequestChange(world.openPullRequest());

    const [delivery] = await receiver.waitFor(1);
    expect(delivery!.receivedAt - changedAt).toBeGreaterThanOrEqual(290);
  });

  it('fails deliveries as unreachable at the failure rate, and retries them', async () => {
    repositoryHook();
    faults.configure({
      webhooks: { duplicateRate: 0, reorderRate: 0, failureRate: 1, latency: { kind: 'none' } },
    });
    startDeliverer();

    pullRequestChange(world.openPullRequest());
    await deliverer.idle();

    expect(receiver.deliveries).toHaveLength(0);
    expect(deliverer.deliveries().map((r) => r.status)).toEqual(
      Array(3).fill('failed to connect to host'),
    );
  });

  it('stops without delivering what it still holds, and says so to whoever waits', async () => {
    const hook = repositoryHook();
    faults.configure({
      webhooks: {
        duplicateRate: 0,
        reorderRate: 0,
        failureRate: 0,
        latency: { kind: 'fixed', ms: 5000 },
      },
    });
    startDeliverer();

    const ping = deliverer.ping(hook);
    await new Promise((resolve) => setTimeout(resolve, 50));
    deliverer.stop();

    await expect(ping).rejects.toThrow('github-sim stopped before delivering');
    await expect(deliverer.idle()).resolves.toBeUndefined();
    expect(receiver.deliveries).toHaveLength(0);
  });

  it('makes the same fault decisions for the same seed and the same changes', async () => {
    // Given half the deliveries duplicated, decided from seed 7
    const run = async (): Promise<boolean[]> => {
      world = createWorld();
      faults = new Faults({
        seed: 7,
        webhooks: { duplicateRate: 0.5, reorderRate: 0, failureRate: 0, latency: { kind: 'none' } },
      });
      repositoryHook();
      const runDeliverer = startDeliverer();
      const pull = world.openPullRequest();
      for (let i = 0; i < 12; i++)
        world.change({
          type: 'pull_request',
          action: 'synchronize',
          pullRequest: pull,
          before: HEAD_SHA,
          after: NEXT_SHA,
        });
      await runDeliverer.idle();
      runDeliverer.stop();
      return runDeliverer.deliveries().map((r) => r.duplicate);
    };
    // When the same twelve changes happen twice
    const first = await run();
    const second = await run();
    // Then the same deliveries are duplicated, and some but not all are
    expect(second).toEqual(first);
    expect(first.filter(Boolean).length).toBeGreaterThan(0);
    expect(first.filter(Boolean).length).toBeLessThan(12);
  });
});
