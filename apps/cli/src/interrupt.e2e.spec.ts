import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectTestNats, TEST_NATS_CLI_URL, uniqueTopology } from '@campaigns/events/testing';
import { FakeSpecService } from './test-support/fake-spec-service.js';
import { sampleStatus, summaryOf } from './test-support/sample-status.js';

// Runs the built binary, as `npm test` builds before testing.
const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('campaign apply --wait and Ctrl-C (the binary, a stand-in spec-service over NATS)', () => {
  const topology = uniqueTopology();
  let nats: NatsConnection;
  let fake: FakeSpecService;
  let dir: string;

  beforeAll(async () => {
    nats = await connectTestNats();
    fake = new FakeSpecService(nats, topology);
    await fake.start();
    dir = mkdtempSync(join(tmpdir(), 'campaign-interrupt-'));
  });

  afterAll(async () => {
    fake.stop();
    await nats.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops waiting on SIGINT, says the apply goes on and how to follow it, and exits 130', async () => {
    const summary = summaryOf(sampleStatus);
    const file = join(dir, 'hello.campaign.yaml');
    writeFileSync(file, 'name: hello-world\non:\n  - repository: github.com/acme/api\n');
    fake.answerApply(summary);
    const child = spawn(process.execPath, [bin, 'apply', '-f', file, '--wait'], {
      env: {
        ...process.env,
        NATS_URL: TEST_NATS_CLI_URL,
        EVENTS_STREAM: topology.streamName,
        EVENTS_SUBJECT_PREFIX: topology.subjectPrefix,
        CAMPAIGN_TOKEN: 'cmp_interrupt-test-token',
        CAMPAIGN_POLL_INTERVAL_MS: '20',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let asked = 0;
    fake.handlers.set('get', () => {
      // Ctrl-C once the CLI is following the apply.
      if (++asked === 2) child.kill('SIGINT');
      return { ok: true, ...summary, phase: 'executing' };
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code).toBe(130);
    expect(stdout).toBe(`Applied campaign hello-world (apply ${summary.applyId})\n`);
    expect(stderr.split('\n').slice(-2)).toEqual([
      'campaign: hello-world: stopped waiting; the apply continues on the server. Follow it with: campaign status hello-world --wait',
      '',
    ]);
  });
});
