import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubSim, type GithubSim } from './github-sim.js';
import { simGraphql } from './graphql/test-support/github-graphql.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from './webhooks/test-support/webhook-receiver.js';

describe('startGithubSim with its defaults', () => {
  let sim: GithubSim;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    sim = await startGithubSim({ repos: 1, org: 'acme' });
    receiver = await startWebhookReceiver('s3cret-hook');
  });
  afterAll(async () => {
    await sim.stop();
    await receiver.close();
  });

  it('serves GraphQL without being asked to', async () => {
    const graphql = simGraphql(sim, sim.adminToken);
    const { rateLimit } = await graphql<{ rateLimit: { limit: number } }>(
      '{ rateLimit { limit } }',
    );
    expect(rateLimit.limit).toBeGreaterThan(0);
  });

  it('pings a hook as soon as it is created, signed with its secret', async () => {
    await sim.control.call('createHook', {
      owner: 'acme',
      url: receiver.url,
      secret: 's3cret-hook',
      events: ['push'],
    });
    const [ping] = await receiver.waitFor(1);
    expect(ping).toMatchObject({ event: 'ping', signatureValid: true });
  });
});
