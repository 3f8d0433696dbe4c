// The acceptance scenario, end to end with the real clients: clone a seeded repository
// with git, push a branch, open a draft pull request with @octokit/rest, mark it ready through
// GraphQL, merge it through the control API, and receive the matching signed webhooks, every
// one verified by @octokit/webhooks and valid against GitHub's webhook schemas.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import { graphqlPlugin } from '../graphql/graphql-plugin.js';
import { simGraphql } from '../graphql/test-support/github-graphql.js';
import { gitCli, tempDir, validatedOctokit } from '../test-support/clients.js';
import {
  startWebhookReceiver,
  type ReceivedDelivery,
  type WebhookReceiver,
} from './test-support/webhook-receiver.js';
import { webhookSchemaErrors } from './test-support/webhook-schemas.js';
import { webhooksPlugin, type WebhooksPlugin } from './webhooks-plugin.js';

const TOKEN = 'ghp_alice';
const SECRET = 'acceptance-secret';

let sim: GithubSim;
let webhooks: WebhooksPlugin;
let receiver: WebhookReceiver;
let work: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
  webhooks = webhooksPlugin();
  sim = await startGithubSim({
    plugins: [graphqlPlugin(), webhooks],
    seed: {
      users: [{ login: 'alice', name: 'Alice', email: 'alice@example.com' }],
      orgs: [{ login: 'acme', members: ['alice'] }],
      tokens: [{ token: TOKEN, login: 'alice' }],
      repositories: [{ owner: 'acme', name: 'hello', files: { 'README.md': '# Hello\n' } }],
    },
  });
  work = await tempDir();
});

afterAll(async () => {
  await sim?.stop();
  await receiver?.close();
  await work?.cleanup();
});

/** What a delivery was about, for comparing sequences: "event" or "event.action". */
const kindOf = (delivery: ReceivedDelivery) =>
  typeof delivery.payload.action === 'string'
    ? `${delivery.event}.${delivery.payload.action}`
    : delivery.event;

describe('acceptance: a pull request’s life, seen through git, REST, GraphQL, the control API and webhooks', () => {
  it('delivers the matching signed, schema-valid webhooks for each step', async () => {
    const octokit = validatedOctokit(sim, TOKEN);
    const graphql = simGraphql(sim, TOKEN);

    // Given a repository hook with a secret, created through the REST API (GitHub pings it)
    const { data: hook } = await octokit.rest.repos.createWebhook({
      owner: 'acme',
      repo: 'hello',
      config: { url: receiver.url, content_type: 'json', secret: SECRET },
      events: ['push', 'pull_request'],
    });
    await receiver.waitFor(1);

    // When alice clones the repository, commits on a branch and pushes it
    const clone = join(work.path, 'hello');
    await gitCli(work.path, ['clone', '--quiet', sim.gitUrl('acme/hello', TOKEN), 'hello']);
    await gitCli(clone, ['checkout', '-b', 'hello-world']);
    await writeFile(join(clone, 'README.md'), '# Hello\nHello\n');
    await gitCli(clone, ['commit', '-am', 'Append Hello to .md files']);
    await gitCli(clone, ['push', '--quiet', 'origin', 'hello-world']);
    const headSha = await gitCli(clone, ['rev-parse', 'HEAD']);

    // And opens a draft pull request with @octokit/rest
    const { data: pull } = await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'hello',
      head: 'hello-world',
      base: 'main',
      title: 'Hello World',
      body: 'My first campaign!',
      draft: true,
    });

    // And marks it ready for review through GraphQL
    const ready = await graphql<{
      markPullRequestReadyForReview: { pullRequest: { isDraft: boolean; number: number } };
    }>(
      `
        mutation ($id: ID!) {
          markPullRequestReadyForReview(input: { pullRequestId: $id }) {
            pullRequest {
              number
              isDraft
            }
          }
        }
      `,
      { id: pull.node_id },
    );
    expect(ready.markPullRequestReadyForReview.pullRequest).toEqual({
      number: pull.number,
      isDraft: false,
    });

    // And a maintainer merges it (the control API acts as a person would)
    const merged = await sim.control.mergePullRequest({
      owner: 'acme',
      name: 'hello',
      number: pull.number,
      actor: 'alice',
    });
    await webhooks.deliverer.idle();
    const deliveries = await receiver.waitFor(6);

    // Then the hook received each step, in order, as GitHub would send it
    expect(deliveries.map(kindOf)).toEqual([
      'ping',
      'push',
      'pull_request.opened',
      'pull_request.ready_for_review',
      'push',
      'pull_request.closed',
    ]);
    for (const delivery of deliveries) {
      expect(delivery.signatureValid).toBe(true);
      expect(delivery.headers['x-github-hook-id']).toBe(String(hook.id));
      expect(
        webhookSchemaErrors(
          delivery.event,
          delivery.payload.action as string | undefined,
          delivery.payload,
        ),
      ).toEqual([]);
    }
    const [, branchPush, opened, readyForReview, mainPush, closed] = deliveries;
    expect(branchPush!.payload).toMatchObject({
      ref: 'refs/heads/hello-world',
      created: true,
      after: headSha,
    });
    expect(opened!.payload).toMatchObject({
      number: pull.number,
      pull_request: { draft: true, head: { sha: headSha } },
    });
    expect(readyForReview!.payload).toMatchObject({
      pull_request: { draft: false },
      sender: { login: 'alice' },
    });
    expect(mainPush!.payload).toMatchObject({ ref: 'refs/heads/main', after: merged.sha });
    expect(closed!.payload).toMatchObject({
      action: 'closed',
      pull_request: { merged: true, merge_commit_sha: merged.sha, merged_by: { login: 'alice' } },
    });
    // And every delivery is in the hook's log, which the REST API lists newest first
    const { data: log } = await octokit.rest.repos.listWebhookDeliveries({
      owner: 'acme',
      repo: 'hello',
      hook_id: hook.id,
    });
    expect(log.map((d) => d.guid)).toEqual(deliveries.map((d) => d.guid).reverse());
    expect(log.every((d) => d.status_code === 200 && d.status === 'OK')).toBe(true);
  });
});
