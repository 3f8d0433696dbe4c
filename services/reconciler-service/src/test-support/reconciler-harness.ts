import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import {
  campaignsCatalogue,
  changesetId as changesetIdOf,
  changesetStream,
  importedChangesetId,
  importedHeadBranch,
  EventRelay,
  migrateDatabase,
  openDatabase,
  PostgresEventStore,
  ProjectionConsumer,
  type ChangesetSpecData,
  type EventsTopology,
  type StoredEvent,
} from '@campaigns/events';
import { CodeHosts, secretValues, type CampaignsConfig } from '@campaigns/codehost';
import {
  createTestDatabase,
  type TestDatabase,
  connectTestNats,
  deleteStream,
  eventually,
  uniqueTopology,
} from '@campaigns/events/testing';
import { startSimCodeHost, type SimCodeHost } from '@campaigns/codehost/testing';
import { ReconcilerWorker, type ReconcilerWorkerOptions } from '../executor/reconciler-worker.js';
import { changesetProjection } from '../projection/changeset-projection.js';
import { reconcilerDatabase } from '../reconciler-database.js';
import { loadReconcilerConfig, RECONCILER_SCHEMA } from '../reconciler-settings.js';

const exec = promisify(execFile);

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd,
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** `git diff --binary` of `after` against `before` (file path → content), as spec-service stores it. */
export async function makeDiff(
  before: Record<string, string>,
  after: Record<string, string | null>,
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'reconciler-diff-'));
  try {
    await git(dir, 'init', '-q');
    const write = async (files: Record<string, string | null>) => {
      for (const [path, content] of Object.entries(files)) {
        const full = join(dir, path);
        if (content === null) await rm(full, { force: true });
        else {
          await mkdir(dirname(full), { recursive: true });
          await writeFile(full, content);
        }
      }
    };
    await write(before);
    await git(dir, 'add', '-A');
    await git(
      dir,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.com',
      'commit',
      '-q',
      '-m',
      'base',
    );
    await write(after);
    await git(dir, 'add', '-A');
    const { stdout } = await exec('git', ['diff', '--cached', '--binary'], {
      cwd: dir,
      encoding: 'buffer',
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Harness {
  db: TestDatabase;
  /** The service's DataSource over the test database, migrated as at the service's startup. */
  database: DataSource;
  nats: NatsConnection;
  topology: EventsTopology;
  sim: SimCodeHost;
  store: PostgresEventStore;
  config: CampaignsConfig;
  /** CAMPAIGNS_CONFIG and the token variable, for a worker in another process. */
  configEnv: Record<string, string>;
  codeHosts: CodeHosts;
  consumer: ProjectionConsumer;
  relay: EventRelay;
  workers: ReconcilerWorker[];
  startWorker(options?: Partial<ReconcilerWorkerOptions>): Promise<ReconcilerWorker>;
  close(): Promise<void>;
}

/** PostgreSQL, NATS, the GitHub simulator, the relay and the projection, all real. */
export async function startHarness(
  options: {
    codeHostOptions?: ConstructorParameters<typeof CodeHosts>[1];
    /** More settings of the simulator's code host entry, as YAML lines, e.g. `fork: true`. */
    codeHostSettings?: readonly string[];
  } = {},
): Promise<Harness> {
  const db = await createTestDatabase('reconciler_test');
  const nats = await connectTestNats();
  const topology = uniqueTopology();
  const sim = await startSimCodeHost({ repos: 1 });
  const configDir = await mkdtemp(join(tmpdir(), 'reconciler-config-'));
  const configFile = join(configDir, 'campaigns.config.yaml');
  await writeFile(
    configFile,
    `codeHosts:
  - id: sim
    kind: github
    url: ${sim.sim.url}
    apiUrl: ${sim.sim.apiUrl}
    graphqlUrl: ${sim.sim.graphqlUrl}
    tokenEnv: RECONCILER_TEST_TOKEN
${(options.codeHostSettings ?? []).map((line) => `    ${line}\n`).join('')}`,
  );
  const configEnv = { CAMPAIGNS_CONFIG: configFile, RECONCILER_TEST_TOKEN: sim.token };
  const config = await loadReconcilerConfig(configEnv);
  const store = new PostgresEventStore(db.pool, campaignsCatalogue(), {
    secrets: secretValues(config),
  });
  await store.migrate();
  const database = await openDatabase({
    url: db.url,
    applicationName: 'reconciler-harness',
    ...reconcilerDatabase,
  });
  await migrateDatabase(database);
  const codeHosts = new CodeHosts(config, {
    writeSpacingMs: 0,
    notificationSpacingMs: 0,
    retryBaseMs: 10,
    ...options.codeHostOptions,
  });
  const relay = new EventRelay({ store, nats, topology, pollIntervalMs: 20 });
  const consumer = new ProjectionConsumer({
    store,
    database,
    nats,
    projection: changesetProjection(),
    schema: RECONCILER_SCHEMA,
    topology,
  });
  await relay.start();
  await consumer.start();
  const workers: ReconcilerWorker[] = [];
  return {
    db,
    database,
    nats,
    topology,
    sim,
    store,
    config,
    configEnv,
    codeHosts,
    consumer,
    relay,
    workers,
    async startWorker(overrides = {}) {
      const worker = new ReconcilerWorker({
        database,
        store,
        codeHosts,
        config,
        pollMs: 25,
        ...overrides,
      });
      workers.push(worker);
      await worker.start();
      return worker;
    },
    async close() {
      for (const w of workers.reverse()) await w.stop();
      await consumer.stop();
      await relay.stop();
      await deleteStream(nats, topology);
      await nats.close();
      await sim.sim.stop();
      await rm(configDir, { recursive: true, force: true });
      await database.destroy();
      await db.drop();
    },
  };
}

/** A changeset of one repository, whose specs the tests append as spec-service would. */
export class TestChangeset {
  readonly id: string;
  readonly stream: string;
  readonly campaign = 'hello-world';
  readonly applyId = randomUUID();

  constructor(
    private readonly h: Harness,
    readonly repository: string,
    readonly headBranch: string,
    id?: string,
  ) {
    this.id = id ?? changesetIdOf(this.campaign, repository, headBranch);
    this.stream = changesetStream(this.id);
  }

  /** The changeset importChangesets makes of pull request `number` of `repository`. */
  static imported(h: Harness, repository: string, number: number): TestChangeset {
    const id = importedChangesetId('hello-world', repository, number);
    return new TestChangeset(h, repository, importedHeadBranch(number), id);
  }

  /** Appends a ChangesetImportRequested of pull request `number`; returns its event id. */
  async importRequested(number: number): Promise<string> {
    const result = await this.h.store.append(
      this.stream,
      [{ type: 'ChangesetImportRequested', data: { ...this.identity(), number } }],
      { expected: 'any', metadata: this.metadata() },
    );
    return result.events[0]!.eventId;
  }

  private identity() {
    return {
      changesetId: this.id,
      campaign: this.campaign,
      repository: this.repository,
      headBranch: this.headBranch,
      applyId: this.applyId,
    };
  }

  private metadata() {
    return {
      correlation_id: this.applyId,
      causation_id: null,
      actor: 'ada',
      source: 'spec-service',
    };
  }

  /**
   * Appends a ChangesetSpecComputed with the diff stored as a blob (and the workspace's tree with
   * its pack, when given); returns its event id.
   */
  async computed(
    spec: Omit<ChangesetSpecData, 'diff' | 'files' | 'tree'>,
    diff: Buffer,
    tree?: { sha: string; pack: Buffer },
  ): Promise<string> {
    const blob = await this.h.store.putBlob(diff);
    const treeRef =
      tree === undefined
        ? {}
        : { tree: { sha: tree.sha, objects: await this.h.store.putBlob(tree.pack) } };
    const result = await this.h.store.append(
      this.stream,
      [
        {
          type: 'ChangesetSpecComputed',
          data: {
            ...this.identity(),
            executionId: 'e'.repeat(32),
            spec: {
              ...spec,
              diff: blob,
              files: { modified: [], added: [], deleted: [], renamed: [] },
              ...treeRef,
            },
          },
        },
      ],
      { expected: 'any', metadata: this.metadata() },
    );
    return result.events[0]!.eventId;
  }

  async removed(
    reason: 'repository-left-spec' | 'import-left-spec' = 'repository-left-spec',
  ): Promise<string> {
    const result = await this.h.store.append(
      this.stream,
      [
        {
          type: 'ChangesetSpecRemoved',
          data: { ...this.identity(), reason },
        },
      ],
      { expected: 'any', metadata: this.metadata() },
    );
    return result.events[0]!.eventId;
  }

  async events(): Promise<StoredEvent<Record<string, unknown>>[]> {
    return (await this.h.store.readStream(this.stream)) as StoredEvent<Record<string, unknown>>[];
  }

  /** Waits for a ChangesetReconciled of `specEventId` (or a ReconcileFailed when asked). */
  async waitFor(
    type: string,
    specEventId: string,
    timeoutMs = 20_000,
  ): Promise<StoredEvent<Record<string, unknown>>> {
    let found: StoredEvent<Record<string, unknown>> | undefined;
    await eventually(
      async () => {
        found = (await this.events()).find(
          (e) => e.type === type && e.data['specEventId'] === specEventId,
        );
        return found !== undefined;
      },
      timeoutMs,
      50,
    );
    if (!found) {
      const seen = (await this.events()).map((e) => `${e.type} ${JSON.stringify(e.data)}`);
      throw new Error(`no ${type} for ${specEventId}; stream:\n${seen.join('\n')}`);
    }
    return found;
  }

  /** Events after `afterVersion`, as `Type` or `Type:operation`. */
  async typesAfter(afterVersion: bigint): Promise<string[]> {
    return (await this.events())
      .filter((e) => e.stream_version > afterVersion)
      .map((e) =>
        e.type === 'ChangesetUpdated' ? `${e.type}:${String(e.data['operation'])}` : e.type,
      );
  }
}

/** The commit at `sha` in the simulator's repository: author, message and one file's content. */
export async function readCommit(
  h: Harness,
  repo: string,
  sha: string,
  path: string,
): Promise<{ author: string; message: string; content: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'reconciler-read-'));
  try {
    await git(dir, 'init', '-q');
    await git(dir, 'fetch', '-q', h.sim.sim.gitUrl(repo, h.sim.token), sha);
    const author = (await git(dir, 'show', '-s', '--format=%an <%ae>', sha)).trim();
    const message = (await git(dir, 'show', '-s', '--format=%B', sha)).trim();
    const content = await git(dir, 'show', `${sha}:${path}`);
    return { author, message, content };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What the executor records for a workspace: the base revision, the diff, the tree and its pack. */
export interface WorkspaceChange {
  baseRevision: string;
  diff: Buffer;
  tree: { sha: string; pack: Buffer };
}

/**
 * Changes files of a simulator repository as a campaign step would and records the result as
 * the executor does: `git diff --binary` against the base revision, the tree id, and a pack of
 * the objects the tree adds to the base (`git pack-objects` of `rev-list --objects TREE --not BASE`).
 */
export async function workspaceChange(
  h: Harness,
  name: string,
  files: Record<string, string | null>,
  options: { packObjects?: (objects: string) => string } = {},
): Promise<WorkspaceChange> {
  const dir = await mkdtemp(join(tmpdir(), 'reconciler-workspace-'));
  try {
    // Read from the simulator's state: what a workspace is based on, not what the adapter reads.
    const repository = h.sim.sim.state.getRepository('acme', name)!;
    const baseRevision = repository.branches[repository.default_branch]!;
    await git(dir, 'init', '-q');
    await git(
      dir,
      'fetch',
      '-q',
      '--depth=1',
      h.sim.sim.gitUrl(`acme/${name}`, h.sim.token),
      baseRevision,
    );
    await git(dir, 'checkout', '-q', '--detach', baseRevision);
    for (const [path, content] of Object.entries(files)) {
      const full = join(dir, path);
      if (content === null) await rm(full, { force: true });
      else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
    await git(dir, 'add', '-A');
    const sha = (await git(dir, 'write-tree')).trim();
    const { stdout: diff } = await exec('git', ['diff', '--cached', '--binary', baseRevision], {
      cwd: dir,
      encoding: 'buffer',
      maxBuffer: 16 * 1024 * 1024,
    });
    const objects = await git(dir, 'rev-list', '--objects', sha, '--not', baseRevision);
    const pack = await gitWithInput(
      dir,
      ['pack-objects', '--stdout', '-q', '--delta-base-offset'],
      options.packObjects?.(objects) ?? objects,
    );
    return { baseRevision, diff, tree: { sha, pack } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function gitWithInput(cwd: string, args: string[], input: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' },
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`git ${args[0]} failed`)),
    );
    child.stdin.end(input);
  });
}

/** `git diff --binary BASE COMMIT` of a commit on the simulator: what a pushed commit changes. */
export async function diffOfCommit(
  h: Harness,
  name: string,
  base: string,
  sha: string,
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'reconciler-read-'));
  try {
    await git(dir, 'init', '-q');
    await git(dir, 'fetch', '-q', h.sim.sim.gitUrl(`acme/${name}`, h.sim.token), sha);
    const { stdout } = await exec('git', ['diff', '--binary', base, sha], {
      cwd: dir,
      encoding: 'buffer',
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export { eventually };

/** Runs test-support/worker-process.ts as a real process (through tsx), so it can be SIGKILLed. */
export function spawnWorkerProcess(
  h: Harness,
  leaseMs: number,
): {
  lines: string[];
  waitFor(line: string, timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./worker-process.ts', import.meta.url))],
    {
      env: { ...process.env, ...h.configEnv, DATABASE_URL: h.db.url, LEASE_MS: String(leaseMs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    lines,
    async waitFor(line, timeoutMs = 30_000) {
      if (!(await eventually(async () => lines.includes(line), timeoutMs)))
        throw new Error(`the worker process never printed "${line}":\n${lines.join('\n')}`);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
