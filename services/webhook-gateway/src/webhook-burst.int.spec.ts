import { createHash, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { changesetId, changesetStream } from '@campaigns/events';
import { eventually } from '@campaigns/events/testing';
import {
  BRANCH,
  CAMPAIGN,
  HOST,
  metricValue,
  pullRequestPayload,
  repository,
  SECRET,
  startGatewayHarness,
  type GatewayHarness,
} from './test-support/gateway-harness.js';

const PULL_REQUESTS = 1000;
const REPO = 'burst';
const sha = (n: number) => createHash('sha1').update(`burst-${n}`).digest('hex');

describe('webhook-gateway under a burst of concurrent deliveries', () => {
  let gw: GatewayHarness;

  beforeAll(async () => {
    gw = await startGatewayHarness();
    // The reconciler published 1,000 pull requests: one ChangesetPublished each, in one append.
    await gw.store.appendToStreams(
      Array.from({ length: PULL_REQUESTS }, (_, i) => {
        const number = i + 1;
        const id = changesetId(CAMPAIGN, repository(REPO), `${BRANCH}-${number}`);
        return {
          stream: changesetStream(id),
          expected: 'no_stream' as const,
          event: {
            type: 'ChangesetPublished',
            data: {
              changesetId: id,
              campaign: CAMPAIGN,
              repository: repository(REPO),
              headBranch: `${BRANCH}-${number}`,
              specEventId: randomUUID(),
              number,
              url: `https://${HOST}/acme/${REPO}/pull/${number}`,
              nodeId: `PR_${number}`,
              draft: false,
              baseRef: 'main',
              headRefOid: sha(number),
              title: 'Hello World',
              body: '',
            },
          },
        };
      }),
      { correlation_id: randomUUID(), causation_id: null, actor: 'test', source: 'test' },
    );
    const tracked = await eventually(async () => {
      const { rows } = await gw.db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM webhook_gateway.tracked_pull_requests',
      );
      return rows[0]!.n === PULL_REQUESTS;
    }, 30_000);
    expect(tracked).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it('Given 1,000 deliveries sent at once, when they are answered, then none is refused or lost, and they are written in far fewer transactions than deliveries', async () => {
    const before = await gw.counts();
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const url = new URL(gw.hookUrl);
    const statuses = await Promise.all(
      Array.from({ length: PULL_REQUESTS }, (_, i) => {
        const body = pullRequestPayload(REPO, {
          number: i + 1,
          headSha: sha(i + 1),
          title: `Renamed by a person ${i}`,
        });
        return new Promise<number>((resolve, reject) => {
          const req = request(
            url,
            {
              method: 'POST',
              agent,
              headers: {
                'content-type': 'application/json',
                'x-github-event': 'pull_request',
                'x-github-delivery': randomUUID(),
                'x-hub-signature-256': gw.sign(body, SECRET),
              },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      }),
    );
    agent.destroy();
    const byStatus = new Map<number, number>();
    for (const s of statuses) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
    expect([...byStatus]).toEqual([[200, PULL_REQUESTS]]);
    expect(await gw.counts()).toEqual({
      events: before.events + PULL_REQUESTS,
      deliveries: before.deliveries + PULL_REQUESTS,
    });
    // Group commit: many deliveries per transaction, not one each.
    const transactions = metricValue(await gw.metrics(), 'webhook_recorder_batch_size_count', {});
    expect(transactions).toBeGreaterThan(0);
    expect(transactions).toBeLessThan(PULL_REQUESTS / 4);
  }, 120_000);
});
