// Starts the GitHub simulator with a bot user, its token and an org, and a `GithubCodeHost`
// configured for it through the real config loader.
import { startGithubSim, type GithubSim } from '@campaigns/github-sim';
import { parseCampaignsConfig, type CodeHostConfig } from '../config.js';
import { GithubCodeHost, type GithubCodeHostOptions } from '../github/github-code-host.js';

export interface SimCodeHost {
  sim: GithubSim;
  config: CodeHostConfig;
  host: GithubCodeHost;
  token: string;
  webhookSecret: string;
  /** `HOST/acme/NAME`. */
  repo(name: string): string;
  logs: string[];
}

export async function startSimCodeHost(
  options: { repos?: number; token?: string; adapter?: GithubCodeHostOptions } = {},
): Promise<SimCodeHost> {
  const sim = await startGithubSim({ repos: options.repos ?? 3, org: 'acme' });
  const token = options.token ?? `ghp_canary_${crypto.randomUUID().replace(/-/g, '')}`;
  const webhookSecret = `whsec_${crypto.randomUUID()}`;
  await sim.control.call('createUser', { login: 'campaigns-bot' });
  await sim.control.call('addMember', { org: 'acme', login: 'campaigns-bot' });
  await sim.control.call('createToken', { login: 'campaigns-bot', token });
  const yaml = `codeHosts:
  - id: sim
    kind: github
    url: ${sim.url}
    apiUrl: ${sim.apiUrl}
    graphqlUrl: ${sim.graphqlUrl}
    tokenEnv: SIM_TOKEN
    webhookSecretEnv: SIM_WEBHOOK_SECRET
`;
  const config = parseCampaignsConfig(yaml, 'campaigns.config.yaml', {
    SIM_TOKEN: token,
    SIM_WEBHOOK_SECRET: webhookSecret,
  });
  const codeHostConfig = config.codeHosts[0]!;
  const logs: string[] = [];
  const host = new GithubCodeHost(codeHostConfig, {
    retries: 6,
    retryBaseMs: 20,
    writeSpacingMs: 0,
    notificationSpacingMs: 0,
    log: (message) => logs.push(message),
    ...options.adapter,
  });
  return {
    sim,
    config: codeHostConfig,
    host,
    token,
    webhookSecret,
    repo: (name) => `${codeHostConfig.host}/acme/${name}`,
    logs,
  };
}
