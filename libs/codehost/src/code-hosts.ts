import type { CodeHost } from './code-host.js';
import { campaignRefOf } from '@campaigns/events';
import {
  codeHostConfigForCampaign,
  CodeHostResolver,
  type CampaignsConfig,
  type CodeHostConfig,
} from './config.js';
import { GithubCodeHost, type GithubCodeHostOptions } from './github/github-code-host.js';

/** The adapter for one configured code host. */
export function createCodeHost(
  config: CodeHostConfig,
  options: GithubCodeHostOptions = {},
): CodeHost {
  switch (config.kind) {
    case 'github':
      return new GithubCodeHost(config, options);
  }
}

/** Every configured code host, found by a host-qualified repository name. */
export class CodeHosts {
  readonly #resolver: CodeHostResolver;
  readonly #byId = new Map<string, CodeHost>();
  /** The adapters of namespaces with their own token, by host id and namespace, made when needed. */
  readonly #byNamespace = new Map<string, CodeHost>();
  readonly #options: GithubCodeHostOptions;

  constructor(config: CampaignsConfig, options: GithubCodeHostOptions = {}) {
    this.#resolver = new CodeHostResolver(config);
    this.#options = options;
    for (const host of config.codeHosts) this.#byId.set(host.id, createCodeHost(host, options));
  }

  /**
   * The code host serving `HOST/OWNER/NAME`; throws naming the configured hosts when none does.
   * With `campaign` (its key), the adapter that writes with its namespace's token when the host
   * has one for it: an adapter of its own, so that token has its own rate-limit budget.
   */
  forRepository(qualifiedName: string, campaign?: string): CodeHost {
    const config = this.#resolver.resolve(qualifiedName);
    const namespace = campaign === undefined ? undefined : campaignRefOf(campaign).namespace;
    if (namespace === undefined || config.namespaceTokens?.[namespace] === undefined)
      return this.#byId.get(config.id)!;
    const key = `${config.id}\0${namespace}`;
    let host = this.#byNamespace.get(key);
    if (host === undefined) {
      host = createCodeHost(codeHostConfigForCampaign(config, campaign!), this.#options);
      this.#byNamespace.set(key, host);
    }
    return host;
  }

  byId(id: string): CodeHost | undefined {
    return this.#byId.get(id);
  }

  all(): CodeHost[] {
    return [...this.#byId.values()];
  }
}

/**
 * Adapter options from the environment: `CAMPAIGNS_WRITE_SPACING_MS` and
 * `CAMPAIGNS_NOTIFICATION_SPACING_MS` override GitHub's advised spacing of content-creating
 * requests (1 s, and 3 s for ones that notify) — tests and simulators set them to 0.
 */
export function codeHostOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): GithubCodeHostOptions {
  const number = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`${name} must be a whole number of milliseconds, got "${raw}"`);
    return value;
  };
  const options: GithubCodeHostOptions = {};
  const write = number('CAMPAIGNS_WRITE_SPACING_MS');
  const notification = number('CAMPAIGNS_NOTIFICATION_SPACING_MS');
  if (write !== undefined) options.writeSpacingMs = write;
  if (notification !== undefined) options.notificationSpacingMs = notification;
  return options;
}

/** Every secret value of the configuration, for the event store's refuse-list and for redaction. */
export function secretValues(config: CampaignsConfig): string[] {
  return config.codeHosts.flatMap((host) => [
    host.token.reveal(),
    ...Object.values(host.namespaceTokens ?? {}).map((own) => own.token.reveal()),
    ...(host.webhookSecret ? [host.webhookSecret.reveal()] : []),
  ]);
}
