import type { CodeHost } from './code-host.js';
import { CodeHostResolver, type CampaignsConfig, type CodeHostConfig } from './config.js';
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

  constructor(config: CampaignsConfig, options: GithubCodeHostOptions = {}) {
    this.#resolver = new CodeHostResolver(config);
    for (const host of config.codeHosts) this.#byId.set(host.id, createCodeHost(host, options));
  }

  /** The code host serving `HOST/OWNER/NAME`; throws naming the configured hosts when none does. */
  forRepository(qualifiedName: string): CodeHost {
    return this.#byId.get(this.#resolver.resolve(qualifiedName).id)!;
  }

  byId(id: string): CodeHost | undefined {
    return this.#byId.get(id);
  }

  all(): CodeHost[] {
    return [...this.#byId.values()];
  }
}
