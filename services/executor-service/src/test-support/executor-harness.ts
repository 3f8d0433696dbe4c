import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  campaignsCatalogue,
  campaignStream,
  EventRelay,
  executionId as executionIdOf,
  ExecutionQueued,
  executionStream,
  jobsTopology,
  migrateDatabase,
  openDatabase,
  PostgresEventStore,
  sha256Hex,
  SpecApplied,
  type EventsTopology,
  type ExecutionJob,
  type StoredEvent,
} from '@campaigns/events';
import { jetstreamManager } from '@nats-io/jetstream';
import type { DataSource } from 'typeorm';
import { secretValues, type CampaignsConfig } from '@campaigns/codehost';
import {
  createTestDatabase,
  type TestDatabase,
  connectTestNats,
  deleteStream,
  eventually,
  uniqueTopology,
} from '@campaigns/events/testing';
import { startSimCodeHost, type SimCodeHost } from '@campaigns/codehost/testing';
import { createExecutorService } from '../executor-service.definition.js';
import { APPLICATION_LABEL } from '../steps/index.js';
import { ensureTestImage } from './test-image.js';

/** The environment variable the test config names for the simulator's token. */
export const SIM_TOKEN_ENV = 'EXECUTOR_TEST_SIM_TOKEN';

/**
 * Everything an executor test needs, all real: a fresh PostgreSQL database with the event store
 * and the service's schema, NATS with a unique topology, the GitHub simulator with a config file
 * for it, a relay from the store to JetStream, and the test image.
 */
export interface ExecutorHarness {
  db: TestDatabase;
  /** The service's DataSource over executor_service, migrated as its startup does. */
  database: DataSource;
  store: PostgresEventStore;
  nats: NatsConnection;
  topology: EventsTopology;
  sim: SimCodeHost;
  campaignsConfig: CampaignsConfig;
  /** A campaigns.config.yaml for the simulator whose token is read from SIM_TOKEN_ENV. */
  configFile: string;
  dir: string;
  docker: Docker;
  /** Creates `acme/<name>` on the simulator with `files`; returns HOST/acme/NAME and the head commit. */
  createRepo(
    name: string,
    files: Record<string, string>,
  ): Promise<{ repository: string; head: string }>;
  /** Appends SpecApplied and one ExecutionQueued per repository, as spec-service does. */
  queue(input: {
    campaign: string;
    specText: string;
    repositories: readonly { repository: string; head: string }[];
    actor?: string;
  }): Promise<{ applyId: string; jobs: ExecutionJob[]; queuedEventIds: string[] }>;
  /** The execution stream, once it holds a result (PatchComputed or ExecutionFailed). */
  result(executionId: string, timeoutMs?: number): Promise<StoredEvent[]>;
  close(): Promise<void>;
}

export async function startExecutorHarness(): Promise<ExecutorHarness> {
  await ensureTestImage();
  const db = await createTestDatabase('executor_test');
  const { name, database: tables } = createExecutorService();
  const database = await openDatabase({
    url: db.url,
    schema: tables.schema,
    applicationName: `test ${name}`,
    entities: tables.entities,
    migrations: tables.migrations,
  });
  const sim = await startSimCodeHost();
  const campaignsConfig: CampaignsConfig = { codeHosts: [sim.config] };
  const store = new PostgresEventStore(db.pool, campaignsCatalogue(), {
    secrets: secretValues(campaignsConfig),
  });
  // In startService's order: the event store, then the service's tables.
  await store.migrate();
  await migrateDatabase(database);
  const nats = await connectTestNats();
  const topology = uniqueTopology();
  const relay = new EventRelay({ store, nats, topology, pollIntervalMs: 50 });
  await relay.start();
  const dir = await mkdtemp(join(tmpdir(), 'campaigns-executor-test-'));
  const configFile = join(dir, 'campaigns.config.yaml');
  await writeFile(
    configFile,
    `codeHosts:
  - id: sim
    kind: github
    url: ${sim.sim.url}
    apiUrl: ${sim.sim.apiUrl}
    graphqlUrl: ${sim.sim.graphqlUrl}
    tokenEnv: ${SIM_TOKEN_ENV}
`,
  );

  const result = async (executionId: string, timeoutMs = 60_000) => {
    let events: StoredEvent[] = [];
    const done = await eventually(
      async () => {
        events = await store.readStream(executionStream(executionId));
        return events.some((e) => e.type === 'PatchComputed' || e.type === 'ExecutionFailed');
      },
      timeoutMs,
      100,
    );
    if (!done) {
      throw new Error(
        `execution ${executionId} has no result after ${timeoutMs} ms: ${events.map((e) => e.type).join(', ')}`,
      );
    }
    return events;
  };

  return {
    db,
    database,
    store,
    nats,
    topology,
    sim,
    campaignsConfig,
    configFile,
    dir,
    docker: new Docker(),
    async createRepo(name, files) {
      const repo = await sim.sim.control.call('createRepo', { owner: 'acme', name, files });
      return { repository: sim.repo(name), head: repo.branches[repo.default_branch]! };
    },
    async queue({ campaign, specText, repositories, actor = 'alice' }) {
      const applyId = crypto.randomUUID();
      const specHash = sha256Hex(specText);
      const metadata = { correlation_id: applyId, causation_id: null, actor, source: 'test' };
      await store.append(
        campaignStream(campaign),
        [
          {
            type: SpecApplied.type,
            data: { campaign, applyId, specHash, specText, fileName: 'test.campaign.yaml', actor },
          },
        ],
        { expected: 'any', metadata },
      );
      const jobs: ExecutionJob[] = [];
      const queuedEventIds: string[] = [];
      for (const { repository, head } of repositories) {
        const job: ExecutionJob = {
          executionId: executionIdOf(applyId, { repository, branch: 'main', path: '' }),
          campaign,
          applyId,
          specHash,
          workspace: {
            repository,
            branch: 'main',
            baseRevision: head,
            path: '',
            searchResultPaths: ['README.md'],
          },
        };
        const appended = await store.append(
          executionStream(job.executionId),
          [{ type: ExecutionQueued.type, data: job }],
          { expected: 'no_stream', metadata },
        );
        jobs.push(job);
        queuedEventIds.push(appended.events[0]!.eventId);
      }
      return { applyId, jobs, queuedEventIds };
    },
    result,
    async close() {
      await relay.stop();
      const jsm = await jetstreamManager(nats);
      await jsm.streams.delete(jobsTopology(topology).streamName).catch(() => undefined);
      await deleteStream(nats, topology);
      await nats.close();
      await sim.sim.stop();
      await database.destroy();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A campaign spec with these steps (each `run` on alpine:3 unless it names a container). */
export function specWithSteps(
  name: string,
  steps: readonly { run: string; container?: string; env?: readonly string[] }[],
): string {
  const lines = [`name: ${name}`, 'on:', '  - repositoriesMatchingQuery: file:README.md', 'steps:'];
  for (const step of steps) {
    lines.push(`  - run: ${JSON.stringify(step.run)}`);
    lines.push(`    container: ${step.container ?? 'alpine:3'}`);
    if (step.env) lines.push(`    env: [${step.env.join(', ')}]`);
  }
  lines.push(
    'changesetTemplate:',
    '  title: Hello World',
    '  body: My first campaign!',
    `  branch: ${name}`,
    '  commit:',
    '    message: Append Hello to .md files',
    '  published: false',
  );
  return `${lines.join('\n')}\n`;
}

/** Step containers the engine created for a campaign application (`campaigns.apply=<applyId>`) between `since` and now. */
export async function containersCreated(
  docker: Docker,
  applyId: string,
  since: number,
): Promise<number> {
  const stream = (await docker.getEvents({
    since: Math.floor(since / 1000),
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: {
      type: ['container'],
      event: ['create'],
      label: [`${APPLICATION_LABEL}=${applyId}`],
    },
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text.split('\n').filter((line) => line.trim() !== '').length;
}
