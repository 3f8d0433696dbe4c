// Starting and stopping a simulator: in-process for tests (a free port on 127.0.0.1) and for the
// command line.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from './control/control-client.js';
import { registerControlCommands } from './control/control-commands.js';
import { RepoStore } from './git/repo-store.js';
import { createRequestListener } from './http/server.js';
import { Faults, type FaultConfig } from './limits/faults.js';
import { registerCheckRoutes } from './rest/checks.routes.js';
import { registerGitRoutes } from './rest/git.routes.js';
import { registerPullRoutes } from './rest/pulls.routes.js';
import { registerRepositoryRoutes } from './rest/repository.routes.js';
import { registerSearchRoutes } from './rest/search.routes.js';
import {
  ADMIN_LOGIN,
  adminLogin,
  applySeedFile,
  seedSyntheticRepos,
  type SeedFile,
} from './seed/seeder.js';
import { graphqlPlugin } from './graphql/graphql-plugin.js';
import { SimCore, type SimPlugin } from './sim-core.js';
import { webhooksPlugin } from './webhooks/webhooks-plugin.js';
import { loadState, SnapshotWriter } from './state/persistence.js';
import { SimState } from './state/sim-state.js';

export interface GithubSimOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Only loopback by default. */
  host?: string;
  /** Keep state and repositories here across restarts; a temporary directory (removed on stop) otherwise. */
  dataDir?: string;
  /** A seed file's content or path, applied on a fresh start. */
  seed?: SeedFile | string;
  /** Synthetic repositories to create on a fresh start, owned by `org`. */
  repos?: number;
  /** Owner of synthetic repositories (default "acme"). */
  org?: string;
  /** A token for the built-in site administrator `sim-admin` (default "sim-admin-token"). */
  adminToken?: string;
  /** Turn every rate limit off for every token created by the simulator's defaults (benchmarks). */
  limitsDisabled?: boolean;
  /** 403 (default, GitHub REST today) or 429 when the primary limit is exhausted. */
  primaryLimitStatus?: 403 | 429;
  faults?: Partial<FaultConfig>;
  /** Compute a new pull request's mergeability and diff statistics when it is first read, not on creation. */
  eagerPullStats?: boolean;
  /** Extensions started with the simulator (webhooks, GraphQL). */
  plugins?: SimPlugin[];
  /**
   * Rate limits count time this many times as fast (default 1): with 12, GitHub's hour of
   * content-creation limits passes in five minutes. For benchmarks of rollout planning, whose
   * planner runs on a clock sped up as much (CAMPAIGNS_TIME_SCALE).
   */
  limitsTimeScale?: number;
}

export interface GithubSim {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** REST base URL for Octokit: `${url}/api/v3` */
  apiUrl: string;
  graphqlUrl: string;
  /** Clone URL of a repository, with a token in it when given. */
  gitUrl(repo: string | { owner: string; name: string }, token?: string): string;
  adminToken: string;
  control: ControlClient;
  state: SimState;
  core: SimCore;
  stop(): Promise<void>;
}

/**
 * Plugins every simulator starts with, as factories: a plugin keeps state for one simulator.
 * A plugin passed in `options.plugins` replaces the default of the same name.
 */
export const defaultPlugins: readonly (() => SimPlugin)[] = [graphqlPlugin, () => webhooksPlugin()];

export async function startGithubSim(options: GithubSimOptions = {}): Promise<GithubSim> {
  const host = options.host ?? '127.0.0.1';
  const temporary = options.dataDir === undefined;
  const root = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'github-sim-')));
  await mkdir(join(root, 'repos'), { recursive: true });

  const loaded = await loadState(root);
  const state = loaded ?? new SimState();
  const writer = temporary ? null : new SnapshotWriter(state, root);
  const store = new RepoStore(root);
  if (!loaded) await store.initSharedStore();

  const server: Server = createServer();
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  const core = new SimCore(
    state,
    store,
    { web: url, api: `${url}/api/v3` },
    new Faults(options.faults),
    scaledClock(options.limitsTimeScale ?? 1),
  );
  if (options.primaryLimitStatus) core.primaryLimitStatus = options.primaryLimitStatus;
  core.pulls.eagerStats = options.eagerPullStats ?? false;

  registerRepositoryRoutes(core);
  registerGitRoutes(core);
  registerPullRoutes(core);
  registerCheckRoutes(core);
  registerSearchRoutes(core);
  registerControlCommands(core);
  const given = options.plugins ?? [];
  const plugins = [
    ...defaultPlugins
      .map((create) => create())
      .filter((d) => !given.some((p) => p.name === d.name)),
    ...given,
  ];
  for (const plugin of plugins) await plugin.setup(core);
  server.on('request', createRequestListener(core));

  const adminToken = options.adminToken ?? 'sim-admin-token';
  adminLogin(core);
  if (!state.getToken(adminToken)) {
    state.createToken({
      login: ADMIN_LOGIN,
      token: adminToken,
      label: 'sim-admin',
      limits: options.limitsDisabled ? { disabled: true } : {},
    });
  }
  if (!loaded) {
    if (options.seed !== undefined) {
      const seed =
        typeof options.seed === 'string'
          ? (JSON.parse(await readFile(options.seed, 'utf8')) as SeedFile)
          : options.seed;
      await applySeedFile(core, seed);
    }
    if (options.repos)
      await seedSyntheticRepos(core, { owner: options.org ?? 'acme', count: options.repos });
  }
  await writer?.flush();

  let stopped = false;
  return {
    url,
    apiUrl: `${url}/api/v3`,
    graphqlUrl: `${url}/api/graphql`,
    gitUrl: (repo, token) => {
      const full = typeof repo === 'string' ? repo : `${repo.owner}/${repo.name}`;
      return token
        ? `http://x-access-token:${token}@${host}:${port}/${full}.git`
        : `${url}/${full}.git`;
    },
    adminToken,
    control: new ControlClient(url),
    state,
    core,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const plugin of [...plugins].reverse()) await plugin.stop?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
      await writer?.flush();
      if (temporary) await rm(root, { recursive: true, force: true });
    },
  };
}

/** The wall clock, or one running `scale` times as fast from now. */
function scaledClock(scale: number): () => number {
  if (scale === 1) return Date.now;
  const start = Date.now();
  return () => start + (Date.now() - start) * scale;
}
