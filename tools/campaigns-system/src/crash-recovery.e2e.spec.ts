// E1 scenario 7: processes killed with SIGKILL in the middle of their work lose nothing and
// duplicate nothing — every execution gets exactly one result and every pull request exists once.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FullCampaignStatus } from '@campaigns/contracts';
import { ensureStepImage as ensureTestImage } from './step-image.js';
import {
  eventually,
  startSystem,
  storedEvents,
  type RunningSystem,
} from './test-support/system.js';

const REPOS = 6;

describe('kill -9 of the executor mid-step and of the reconciler mid-publish', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    await ensureTestImage();
    system = await startSystem({ repos: REPOS, executorReplicas: 1 });
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
  }, 60_000);

  const count = async (type: string) =>
    (await storedEvents(system.db.pool)).filter((e) => e.type === type);

  it('finishes every execution once and opens every pull request once', async () => {
    const file = join(system.workDir, 'slow.campaign.yaml');
    await writeFile(
      file,
      `name: slow
on:
  - repositoriesMatchingQuery: file:README.md
steps:
  - run: sleep 2 && echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Slow hello
  body: Survives crashes
  branch: slow-hello
  commit:
    message: Append Hello
  published: true
`,
    );
    const applied = await system.cli(['apply', '-f', file, '--json']);
    expect(applied.code).toBe(0);

    // An executor is inside a step: kill it, then bring a fresh one up.
    await eventually('an execution to start', async () =>
      (await count('ExecutionStarted')).length > 0 ? true : undefined,
    );
    await system.kill('executor-service');
    await system.start('executor-service');

    // The reconciler has opened some pull requests but not all: kill it mid-publish.
    await eventually(
      'the first pull request',
      async () => ((await count('ChangesetPublished')).length > 0 ? true : undefined),
      120_000,
      50,
    );
    await system.kill('reconciler-service');
    await system.start('reconciler-service');

    const final = await eventually(
      'the campaign to complete',
      async () => {
        const result = await system.cli(['status', 'slow', '--json']);
        if (result.code !== 0) return undefined;
        const s = JSON.parse(result.stdout) as FullCampaignStatus;
        return s.phase === 'complete' ? s : undefined;
      },
      240_000,
      500,
    );
    expect(final.changesets).toHaveLength(REPOS);

    const results = [...(await count('PatchComputed')), ...(await count('ExecutionFailed'))];
    const perExecution = new Map<string, number>();
    for (const e of results) {
      const id = e.data['executionId'] as string;
      perExecution.set(id, (perExecution.get(id) ?? 0) + 1);
    }
    expect(perExecution.size).toBe(REPOS);
    expect([...perExecution.values()].every((n) => n === 1)).toBe(true);
    expect(await count('ExecutionFailed')).toHaveLength(0);

    for (let i = 1; i <= REPOS; i++) {
      const name = `repo-${String(i).padStart(5, '0')}`;
      const response = await fetch(
        `${system.env.sim.apiUrl}/repos/acme/${name}/pulls?state=all&per_page=100`,
        { headers: { authorization: `token ${system.env.sim.adminToken}` } },
      );
      const prs = ((await response.json()) as { head: { ref: string } }[]).filter(
        (p) => p.head.ref === 'slow-hello',
      );
      expect(prs).toHaveLength(1);
    }
  }, 600_000);
});
