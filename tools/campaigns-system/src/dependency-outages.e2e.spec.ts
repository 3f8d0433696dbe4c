// R1 item 5: PostgreSQL and NATS go away and come back while the four services run and a change
// is in flight. Each service reports not ready while a dependency is away and ready again once
// it is back, without a restart, and the change lands as if nothing had happened. The servers
// are the test's own (PrivatePostgres, PrivateNatsServer): stopping the shared ones would break
// every test running beside this one.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrivateNatsServer, PrivatePostgres } from '@campaigns/events/testing';
import { ensureStepImage as ensureTestImage } from './step-image.js';
import {
  eventually,
  SERVICE_NAMES,
  startSystem,
  storedEvents,
  type RunningSystem,
} from './test-support/system.js';

const REPOS = 3;

function specText(title: string): string {
  return `name: outages
on:
  - repositoriesMatchingQuery: file:README.md
steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: ${title}
  branch: outages
  commit:
    message: Append Hello
  published: true
`;
}

interface PullJson {
  title: string;
  state: string;
  head: { ref: string };
}

describe('dependencies that go away and come back', () => {
  let postgres: PrivatePostgres;
  let nats: PrivateNatsServer;
  let system: RunningSystem;
  let specFile: string;

  beforeAll(async () => {
    await ensureTestImage();
    postgres = await PrivatePostgres.start();
    nats = await PrivateNatsServer.start();
    system = await startSystem({
      repos: REPOS,
      executorReplicas: 1,
      postgresAdminUrl: postgres.url(),
      natsUrl: nats.url,
    });
    specFile = join(system.workDir, 'outages.campaign.yaml');
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
    await nats?.destroy();
    postgres?.destroy();
  }, 60_000);

  const readiness = async () =>
    (await Promise.all(SERVICE_NAMES.map((name) => system.readiness(name)))).flat();
  const allReadyAre = async (status: number) => {
    let last: Record<string, number[]> = {};
    try {
      await eventually(`every service's /readyz to answer ${status}`, async () => {
        const each = await Promise.all(SERVICE_NAMES.map((name) => system.readiness(name)));
        last = Object.fromEntries(SERVICE_NAMES.map((name, i) => [name, each[i]!]));
        return each.flat().every((s) => s === status) ? true : undefined;
      });
    } catch (error) {
      // What each process that did not answer said last: an exit, a hang, a crash.
      const silent = system
        .history()
        .filter(({ name }) => last[name]?.includes(0))
        .map(({ name, proc }) => {
          const exit = proc.child.exitCode ?? proc.child.signalCode ?? 'running';
          return `${name} (pid ${proc.child.pid}, ${exit}):\n${proc.stdoutLines.slice(-20).join('\n')}\n${proc.stderr().slice(-2000)}`;
        });
      throw new Error(
        `${(error as Error).message}; last answers: ${JSON.stringify(last)}\n${silent.join('\n')}`,
      );
    }
  };
  const pulls = async () =>
    (
      await Promise.all(
        Array.from({ length: REPOS }, async (_, i) => {
          const repo = `repo-${String(i + 1).padStart(5, '0')}`;
          const response = await fetch(
            `${system.env.sim.apiUrl}/repos/acme/${repo}/pulls?state=all&per_page=100`,
            { headers: { authorization: `token ${system.env.sim.adminToken}` } },
          );
          return ((await response.json()) as PullJson[]).filter((p) => p.head.ref === 'outages');
        }),
      )
    ).flat();
  const titlesBecome = (title: string) =>
    eventually(
      `every pull request to be titled "${title}"`,
      async () => {
        const all = await pulls();
        return all.length === REPOS && all.every((p) => p.title === title) ? all : undefined;
      },
      120_000,
    );
  const apply = async (title: string, ...flags: string[]) => {
    await writeFile(specFile, specText(title));
    const result = await system.cli(['apply', '-f', specFile, ...flags]);
    if (result.code !== 0) throw new Error(`apply exited ${result.code}: ${result.stderr}`);
  };
  /** Every process that was started is still the same process: nothing restarted. */
  const noneExited = () =>
    SERVICE_NAMES.flatMap((name) => system.processes(name)).every(
      (p) => p.child.exitCode === null && p.child.signalCode === null,
    );

  it('opens the pull requests with every dependency present', async () => {
    await apply('Hello', '--wait');
    expect((await titlesBecome('Hello')).map((p) => p.state)).toEqual(['open', 'open', 'open']);
    expect(await readiness()).toEqual(Array(SERVICE_NAMES.length).fill(200));
  }, 120_000);

  it('PostgreSQL restarts mid-change: every service turns 503 and back to 200 on its own, and the change lands', async () => {
    await apply('Hello, PostgreSQL');
    postgres.stop();
    await allReadyAre(503);
    await postgres.restart();
    await allReadyAre(200);

    const all = await titlesBecome('Hello, PostgreSQL');
    expect(all).toHaveLength(REPOS);
    expect(noneExited()).toBe(true);
    expect(
      (await storedEvents(system.db.pool)).filter((e) => e.type === 'ConsumerDeadLettered'),
    ).toEqual([]);
    // And the system works as before: the next change goes all the way through.
    await apply('Hello after PostgreSQL', '--wait');
    await titlesBecome('Hello after PostgreSQL');
  }, 300_000);

  it('NATS restarts mid-change: every service turns 503 and back to 200 on its own, and the change lands', async () => {
    await apply('Hello, NATS');
    await nats.stop();
    await allReadyAre(503);
    await nats.restart();
    await allReadyAre(200);

    const all = await titlesBecome('Hello, NATS');
    expect(all).toHaveLength(REPOS);
    expect(noneExited()).toBe(true);
    await apply('Hello after NATS', '--wait');
    await titlesBecome('Hello after NATS');
    // Nothing was given up on along the way.
    const events = await storedEvents(system.db.pool);
    expect(events.filter((e) => e.type === 'ConsumerDeadLettered')).toEqual([]);
    const verify = await system.cli(['audit', '--verify']);
    expect(verify).toMatchObject({ code: 0 });
  }, 300_000);
});
