import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import type { Hook } from '../state/model.js';
import { validatedOctokit } from '../test-support/clients.js';
import type { DeliveryRecord } from './delivery-log.js';
import { startWebhookReceiver, type WebhookReceiver } from './test-support/webhook-receiver.js';
import { webhookSchemaErrors } from './test-support/webhook-schemas.js';
import { webhooksPlugin, type HookCreationSource, type WebhooksPlugin } from './webhooks-plugin.js';

const TOKEN = 'ghp_alice';
const SECRET = 'plugin-secret';

/** Stands in for the core announcing new hooks. */
const listeners = new Set<(hook: Hook, actor: string) => void>();
const hookCreation: HookCreationSource = {
  onHookCreated(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
const announce = (hook: Hook, actor: string) =>
  listeners.forEach((listener) => listener(hook, actor));

let sim: GithubSim;
let webhooks: WebhooksPlugin;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
  webhooks = webhooksPlugin({ hookCreation });
  sim = await startGithubSim({
    plugins: [webhooks],
    seed: {
      users: [{ login: 'alice' }],
      orgs: [{ login: 'acme', members: ['alice'] }],
      tokens: [{ token: TOKEN, login: 'alice' }],
      repositories: [{ owner: 'acme', name: 'widgets', files: { 'README.md': '# Widgets\n' } }],
    },
  });
});

afterAll(async () => {
  await sim?.stop();
  await receiver?.close();
});

/** Control commands the plugin adds (not in the core's typed client). */
async function control<T>(command: string, input: unknown): Promise<T> {
  const response = await fetch(`${sim.url}/_control/${command}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  expect(response.ok).toBe(true);
  return (await response.json()) as T;
}

describe('the webhooks plugin', () => {
  it('pings a hook as soon as it is announced as created', async () => {
    const since = receiver.deliveries.length;
    const hook = await sim.control.createHook({
      owner: 'acme',
      name: 'widgets',
      url: receiver.url,
      secret: SECRET,
      events: ['push'],
    });

    announce(hook, 'alice');

    const [ping] = (await receiver.waitFor(since + 1)).slice(since);
    expect(ping!.event).toBe('ping');
    expect(ping!.payload).toMatchObject({
      hook_id: hook.id,
      sender: { login: 'alice' },
      repository: { full_name: 'acme/widgets' },
    });
    expect(webhookSchemaErrors('ping', undefined, ping!.payload)).toEqual([]);
  });

  it('pings an organization hook through POST /orgs/{org}/hooks/{id}/pings', async () => {
    const octokit = validatedOctokit(sim, TOKEN);
    const { data: hook } = await octokit.rest.orgs.createWebhook({
      org: 'acme',
      name: 'web',
      config: { url: receiver.url, content_type: 'json', secret: SECRET },
      events: ['pull_request'],
    });
    const since = receiver.deliveries.length;

    await octokit.rest.orgs.pingWebhook({ org: 'acme', hook_id: hook.id });

    const [ping] = (await receiver.waitFor(since + 1)).slice(since);
    expect(ping!.headers).toMatchObject({
      'x-github-hook-installation-target-type': 'organization',
    });
    expect(ping!.payload).toMatchObject({
      hook: { type: 'Organization', id: hook.id },
      organization: { login: 'acme' },
    });
    expect(ping!.payload).not.toHaveProperty('repository');
    expect(webhookSchemaErrors('ping', undefined, ping!.payload)).toEqual([]);
  });

  it('shows one delivery with its request and response, and redelivers it through the REST API', async () => {
    // Given a delivered push
    const octokit = validatedOctokit(sim, TOKEN);
    const { data: hook } = await octokit.rest.repos.createWebhook({
      owner: 'acme',
      repo: 'widgets',
      config: { url: receiver.url, content_type: 'json', secret: SECRET },
      events: ['push'],
    });
    const since = receiver.deliveries.length;
    await sim.control.pushCommit({
      owner: 'acme',
      name: 'widgets',
      branch: 'main',
      files: { 'a.md': 'A\n' },
      actor: 'alice',
    });
    await webhooks.deliverer.idle();
    const { data: items } = await octokit.rest.repos.listWebhookDeliveries({
      owner: 'acme',
      repo: 'widgets',
      hook_id: hook.id,
    });
    // When it is read and redelivered
    const { data: delivery } = await octokit.rest.repos.getWebhookDelivery({
      owner: 'acme',
      repo: 'widgets',
      hook_id: hook.id,
      delivery_id: items[0]!.id,
    });
    const attempt = await octokit.rest.repos.redeliverWebhookDelivery({
      owner: 'acme',
      repo: 'widgets',
      hook_id: hook.id,
      delivery_id: items[0]!.id,
    });
    await webhooks.deliverer.idle();
    // Then the delivery shows what was sent and answered, and the receiver got it twice
    expect(delivery).toMatchObject({
      event: 'push',
      action: null,
      redelivery: false,
      status_code: 200,
      request: { headers: { 'X-GitHub-Event': 'push' }, payload: { ref: 'refs/heads/main' } },
      response: { payload: 'thanks' },
    });
    expect(attempt.status).toBe(202);
    const pushes = receiver.deliveries
      .slice(since)
      .filter((d) => d.event === 'push' && d.headers['x-github-hook-id'] === String(hook.id));
    expect(pushes).toHaveLength(2);
    expect(pushes[1]!.guid).toBe(pushes[0]!.guid);
    const { data: after } = await octokit.rest.repos.listWebhookDeliveries({
      owner: 'acme',
      repo: 'widgets',
      hook_id: hook.id,
    });
    expect(after[0]).toMatchObject({ guid: delivery.guid, redelivery: true });
  });

  it('answers 404 for a delivery of another hook', async () => {
    const octokit = validatedOctokit(sim, TOKEN);
    const { data: hook } = await octokit.rest.repos.createWebhook({
      owner: 'acme',
      repo: 'widgets',
      config: { url: receiver.url },
    });

    await expect(
      octokit.rest.repos.getWebhookDelivery({
        owner: 'acme',
        repo: 'widgets',
        hook_id: hook.id,
        delivery_id: 1,
      }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('lists and redelivers deliveries through its control commands', async () => {
    const records = await control<DeliveryRecord[]>('webhookDeliveries', { event: 'push' });

    const again = await control<DeliveryRecord>('redeliverWebhook', { deliveryId: records[0]!.id });

    expect(records.length).toBeGreaterThan(0);
    expect(again).toMatchObject({ guid: records[0]!.guid, redelivery: true, ok: true });
  });
});
