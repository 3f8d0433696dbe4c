import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  apiSubject,
  REPLY_KEY_HEADER,
  replyKeyOf,
  sealReply,
  type ApiReply,
  type CampaignStatus,
  type ChangesetsPage,
  type ExecutionsPage,
} from '@campaigns/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectTestNats, TEST_NATS_CLI_URL, uniqueTopology } from '@campaigns/events/testing';
import { sampleStatus, summaryOf } from './test-support/sample-status.js';

// Runs the built binary, as `npm test` builds before testing.
const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function campaign(args: string[], env: Record<string, string>): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('campaign binary talking to spec-service over NATS', () => {
  let nats: NatsConnection;
  const topology = uniqueTopology();
  const env = {
    NATS_URL: TEST_NATS_CLI_URL,
    EVENTS_STREAM: topology.streamName,
    EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
  };

  beforeAll(async () => {
    nats = await connectTestNats();
    const answer = (verb: 'get' | 'changesets' | 'executions', reply: ApiReply<object>) =>
      nats.subscribe(apiSubject(topology, verb), {
        callback: (_error, msg) => {
          // Sealed to the request's key, as spec-service answers the CLI.
          const key = replyKeyOf(msg.headers?.get(REPLY_KEY_HEADER) ?? '');
          msg.respond(key === undefined ? 'no reply key' : sealReply(key, JSON.stringify(reply)));
        },
      });
    const summary: ApiReply<CampaignStatus> = { ok: true, ...summaryOf(sampleStatus) };
    const changesets: ApiReply<ChangesetsPage> = {
      ok: true,
      changesets: sampleStatus.changesets,
      next: null,
    };
    const executions: ApiReply<ExecutionsPage> = {
      ok: true,
      applyId: sampleStatus.applyId,
      executions: sampleStatus.executions.filter((e) => e.state === 'failed'),
      next: null,
    };
    answer('get', summary);
    answer('changesets', changesets);
    answer('executions', executions);
    await nats.flush();
  });

  afterAll(async () => {
    await nats.close();
  });

  it('asks for a status, prints it and exits at once', async () => {
    const started = Date.now();
    const r = await campaign(['status', 'hello-world'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Campaign hello-world: needs-attention');
    expect(r.stderr).toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('exits 2 with one line when nothing answers', async () => {
    const r = await campaign(['list'], env);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `campaign: spec-service is not answering on ${apiSubject(topology, 'list')} — is it running?\n`,
    });
  });
});
