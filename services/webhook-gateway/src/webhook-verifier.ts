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
 * Verifies GitHub deliveries against the webhook secrets of the configured GitHub hosts, over
 * the body's exact bytes and before anything parses them: every host with a secret is tried.
 * When several hosts' secrets match, the one named by the (now trusted) payload's repository URL
 * reads it.
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
   * throws WebhookVerificationError when no host's secret matches, or (`bad_payload`) when a
   * verified body is not a JSON object or lacks the delivery's headers.
   */
  async verify(
    headers: WebhookHeaders,
    rawBody: Uint8Array,
  ): Promise<{ delivery: WebhookDelivery; host: CodeHost }> {
    const matching: GithubCodeHost[] = [];
    for (const host of this.hosts) {
      try {
        await host.verifyWebhook(headers, rawBody);
        matching.push(host);
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        // A missing signature fails the same way with every host.
        if (error.reason !== 'bad_signature') throw error;
      }
    }
    const first = matching[0];
    if (first === undefined)
      throw new WebhookVerificationError('bad_signature', 'no code host matched');
    const delivery = await first.parseWebhook(headers, rawBody);
    if (matching.length === 1) return { delivery, host: first };
    const named = repositoryHost(delivery.payload);
    const host = matching.find((h) => h.host === named) ?? first;
    return {
      delivery: host === first ? delivery : await host.parseWebhook(headers, rawBody),
      host,
    };
  }
}

/** `host[:port]` of the payload's repository.html_url, when it has one. */
function repositoryHost(payload: Record<string, unknown>): string | undefined {
  const url = (payload['repository'] as { html_url?: unknown } | undefined)?.html_url;
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).host;
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
