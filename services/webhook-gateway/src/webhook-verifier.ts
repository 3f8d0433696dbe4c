import {
  ConfigError,
  GithubCodeHost,
  WebhookVerificationError,
  type CampaignsConfig,
  type CodeHost,
  type WebhookDelivery,
  type WebhookHeaders,
} from '@campaigns/codehost';

/**
 * Verifies GitHub deliveries against the webhook secrets of the configured GitHub hosts. The
 * host named by the (not yet trusted) payload's repository URL is the only one tried when it has
 * a secret; otherwise every host with one is, in configuration order.
 */
export class WebhookVerifier {
  private readonly hosts: GithubCodeHost[];

  constructor(config: CampaignsConfig) {
    this.hosts = config.codeHosts
      .filter((host) => host.kind === 'github' && host.webhookSecret !== undefined)
      .map((host) => new GithubCodeHost(host));
    if (this.hosts.length === 0) {
      throw new Error(
        'no GitHub code host in the Campaigns configuration has a webhook secret (webhookSecretEnv): webhook-gateway could verify no webhook',
      );
    }
  }

  /**
   * The verified delivery and the code host whose secret it matched (which reads what it says);
   * throws WebhookVerificationError when no host's secret matches.
   */
  async verify(
    headers: WebhookHeaders,
    rawBody: string,
  ): Promise<{ delivery: WebhookDelivery; host: CodeHost }> {
    let last: unknown = new WebhookVerificationError('bad_signature', 'no code host matched');
    for (const host of this.candidates(rawBody)) {
      try {
        return { delivery: await host.parseWebhook(headers, rawBody), host };
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        // A missing signature or a bad payload fails the same way with every host.
        if (error.reason !== 'bad_signature' && error.reason !== 'no_secret') throw error;
        last = error;
      }
    }
    throw last;
  }

  private candidates(rawBody: string): GithubCodeHost[] {
    const host = repositoryHost(rawBody);
    const picked = host === undefined ? [] : this.hosts.filter((h) => h.host === host);
    return picked.length > 0 ? picked : this.hosts;
  }
}

/** `host[:port]` of the payload's repository.html_url, when the body is JSON that has one. */
function repositoryHost(rawBody: string): string | undefined {
  try {
    const payload = JSON.parse(rawBody) as { repository?: { html_url?: unknown } };
    const url = payload.repository?.html_url;
    return typeof url === 'string' ? new URL(url).host : undefined;
  } catch {
    return undefined;
  }
}

/** One line for a configuration that cannot be read, for the startup failure. */
export function describeConfigProblem(error: unknown): string {
  if (error instanceof ConfigError) {
    const problems = error.problems.map((p) =>
      p.line === undefined ? p.message : `${p.line}:${p.col}: ${p.path} ${p.message}`,
    );
    return `webhook-gateway cannot load the Campaigns configuration ${error.file}: ${problems.join('; ')}`;
  }
  return `webhook-gateway cannot load the Campaigns configuration: ${error instanceof Error ? error.message : String(error)}`;
}
