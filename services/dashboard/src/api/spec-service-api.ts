import { headers } from '@nats-io/transport-node';
import {
  API_CONTRACTS,
  AUTHORIZATION_HEADER,
  apiSubject,
  describeInvalid,
  replyProblem,
  type ApiReplyOf,
  type ApiRequestOf,
  type ApiVerb,
} from '@campaigns/contracts';
import type { ServiceContext } from '@campaigns/service-kit';

/** How long one request waits for spec-service's answer. */
export const SPEC_SERVICE_TIMEOUT_MS = 10_000;

/** spec-service answered `{ ok: false }`: its error code and message, shown to the user. */
export class SpecServiceRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** spec-service did not answer, or answered something that is not its API. */
export class SpecServiceUnavailable extends Error {}

/**
 * spec-service's request/reply API (libs/contracts) as the dashboard asks it, both ways checked
 * by the contract's schemas.
 */
export class SpecServiceApi {
  constructor(private readonly context: Pick<ServiceContext, 'nats' | 'config'>) {}

  /**
   * One request and its checked reply, as the signed-in user: the one place a request leaves
   * the dashboard, with the user's access token, which spec-service checks and records as actor.
   */
  async request<V extends ApiVerb>(
    verb: V,
    body: ApiRequestOf<V>,
    token: string,
  ): Promise<ApiReplyOf<V>> {
    const checked = API_CONTRACTS[verb].request.safeParse(body);
    if (!checked.success)
      throw new SpecServiceRefused('invalid-request', describeInvalid(checked.error));
    const subject = apiSubject(this.context.config.events, verb);
    let text: string;
    try {
      const credential = headers();
      credential.set(AUTHORIZATION_HEADER, `Bearer ${token}`);
      const reply = await this.context.nats.request(subject, JSON.stringify(body), {
        timeout: SPEC_SERVICE_TIMEOUT_MS,
        headers: credential,
      });
      text = reply.string();
    } catch {
      throw new SpecServiceUnavailable(`spec-service is not answering on ${subject}`);
    }
    let reply: unknown;
    try {
      reply = JSON.parse(text);
    } catch {
      throw new SpecServiceUnavailable(`spec-service answered ${subject} with something not JSON`);
    }
    const problem = replyProblem(verb, reply);
    if (problem !== null)
      throw new SpecServiceUnavailable(`spec-service's answer on ${subject}: ${problem}`);
    const { ok, ...rest } = reply as { ok: boolean } & Record<string, unknown>;
    if (!ok) {
      const error = rest['error'] as { code: string; message: string };
      throw new SpecServiceRefused(error.code, error.message);
    }
    return rest as ApiReplyOf<V>;
  }
}
