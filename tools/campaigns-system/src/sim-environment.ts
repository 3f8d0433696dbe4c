// The GitHub simulator set up the way a Campaigns installation expects a code host: an
// organization of sample repositories, a bot account with a token, a webhook secret, and the
// campaigns.config.yaml that points the services at it. Used by `npm start` and the e2e tests.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGithubSim, type GithubSim } from '@campaigns/github-sim';

/** Environment variable names the generated config reads the credentials from. */
export const SIM_TOKEN_ENV = 'CAMPAIGNS_SIM_TOKEN';
export const SIM_WEBHOOK_SECRET_ENV = 'CAMPAIGNS_SIM_WEBHOOK_SECRET';
/** The bot account Campaigns acts as on the simulator. */
export const SIM_BOT_LOGIN = 'campaigns-bot';

export interface SimEnvironmentOptions {
  /** Sample repositories (`repo-00001`, …, each with a README.md) in the organization. */
  repos?: number;
  /** Organization that owns them (default `acme`). */
  org?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Keep the simulator's state here across restarts. */
  dataDir?: string;
  /** The bot's token (default: a random `ghp_` token). */
  token?: string;
  /** The secret webhooks are signed with (default: random). */
  webhookSecret?: string;
  /**
   * More settings of the code host in campaigns.config.yaml, as YAML lines of its entry (e.g.
   * `rolloutWindows: []`, `contentLimits: false`).
   */
  codeHostSettings?: string;
  /** The simulator's rate limits count time this many times as fast (rollout benchmark). */
  limitsTimeScale?: number;
}

export interface SimEnvironment {
  readonly sim: GithubSim;
  readonly org: string;
  /** `host:port` of the simulator: the first part of its repositories' names. */
  readonly host: string;
  readonly token: string;
  readonly webhookSecret: string;
  /** `HOST/ORG/NAME`. */
  repo(name: string): string;
  /** campaigns.config.yaml for this simulator (credentials referenced by env var name only). */
  readonly configYaml: string;
  /** The credentials, under the names the config refers to. */
  readonly env: Readonly<Record<string, string>>;
  /** Writes the config into `dir` and returns its path. */
  writeConfig(dir: string): Promise<string>;
  /** Makes the organization deliver every event to `url`, signed with the webhook secret. */
  connectWebhooks(url: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimEnvironment(
  options: SimEnvironmentOptions = {},
): Promise<SimEnvironment> {
  const org = options.org ?? 'acme';
  const sim = await startGithubSim({
    repos: options.repos ?? 20,
    org,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.limitsTimeScale === undefined ? {} : { limitsTimeScale: options.limitsTimeScale }),
  });
  try {
    const token = options.token ?? `ghp_${randomBytes(18).toString('hex')}`;
    const webhookSecret = options.webhookSecret ?? randomBytes(24).toString('hex');
    await ensureBot(sim, org, token);
    const host = new URL(sim.url).host;
    const configYaml = `# Written by Campaigns for the GitHub simulator at ${sim.url}.
codeHosts:
  - id: sim
    kind: github
    url: ${sim.url}
    apiUrl: ${sim.apiUrl}
    graphqlUrl: ${sim.graphqlUrl}
    tokenEnv: ${SIM_TOKEN_ENV}
    webhookSecretEnv: ${SIM_WEBHOOK_SECRET_ENV}
    organizations: [${org}]
${(options.codeHostSettings ?? '')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => `    ${line}\n`)
  .join('')}`;
    return {
      sim,
      org,
      host,
      token,
      webhookSecret,
      repo: (name) => `${host}/${org}/${name}`,
      configYaml,
      env: { [SIM_TOKEN_ENV]: token, [SIM_WEBHOOK_SECRET_ENV]: webhookSecret },
      async writeConfig(dir) {
        await mkdir(dir, { recursive: true });
        const file = join(dir, 'campaigns.config.yaml');
        await writeFile(file, configYaml);
        return file;
      },
      async connectWebhooks(url) {
        // GitHub's default is only `push`; Campaigns follows pull requests, reviews and checks.
        await sim.control.call('createHook', {
          owner: org,
          url,
          secret: webhookSecret,
          events: ['pull_request', 'pull_request_review', 'check_suite', 'check_run', 'status'],
        });
      },
      stop: () => sim.stop(),
    };
  } catch (error) {
    await sim.stop();
    throw error;
  }
}

/** The bot user, a member of the organization, with the token (idempotent for a kept dataDir). */
async function ensureBot(sim: GithubSim, org: string, token: string): Promise<void> {
  const tolerateExisting = async (run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (error) {
      if (!/exist|taken|already/i.test((error as Error).message)) throw error;
    }
  };
  await tolerateExisting(() => sim.control.call('createUser', { login: SIM_BOT_LOGIN }));
  await tolerateExisting(() => sim.control.call('addMember', { org, login: SIM_BOT_LOGIN }));
  await tolerateExisting(() => sim.control.call('createToken', { login: SIM_BOT_LOGIN, token }));
}

/**
 * The environment every service gets to run against a simulator, beyond DATABASE_URL, NATS_URL,
 * HOST and PORT: writes the campaigns.config.yaml into `stateDir` and returns the variables.
 * `npm start` and `npm run bench:campaign` both use it, so the benchmark measures what people run.
 */
export async function simulatorServiceEnv(options: {
  sim: SimEnvironment;
  stateDir: string;
}): Promise<Record<string, string>> {
  const configFile = await options.sim.writeConfig(options.stateDir);
  return {
    CAMPAIGNS_CONFIG: configFile,
    ...options.sim.env,
    // The simulator has no reason for GitHub's advised spacing between writes.
    CAMPAIGNS_WRITE_SPACING_MS: '0',
    CAMPAIGNS_NOTIFICATION_SPACING_MS: '0',
    EXECUTOR_CACHE_DIR: join(options.stateDir, 'executor-cache'),
  };
}
