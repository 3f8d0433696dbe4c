import {
  type EventsTopology,
  natsConnectTarget,
  readOptionalSecretVariable,
  redactUrl,
} from '@campaigns/events';
import { EXIT } from '../command.js';
import {
  API_CONTRACTS,
  apiSubject,
  AUTHORIZATION_HEADER,
  describeInvalid,
  isSealed,
  MAX_API_REQUEST_BYTES,
  NAMESPACED_VERBS,
  newReplyKey,
  openReply,
  REPLY_KEY_HEADER,
  replyProblem,
  type ReplyKey,
  type ApiReply,
  type ApiVerb,
} from '@campaigns/contracts';
import {
  AuthorizationError,
  connect,
  headers,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';
import { accessTokenOf, EXIT_NOT_AUTHENTICATED, savedNatsOf } from './credentials.js';
import { namespaceOf } from './namespace.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
/** How long one request waits for spec-service's answer. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * A failure the CLI reports as one line on stderr (`campaign: <message>`, or the message alone
 * when `prefixed` is false), with its exit code.
 */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly prefixed = true,
  ) {
    super(message);
  }
}

/** Where the CLI finds NATS and spec-service's subjects, from the environment. */
export interface ClientSettings {
  natsUrl: string;
  /**
   * NATS_USER / NATS_PASSWORD (a user in NATS_URL otherwise, or the config file's); none on an
   * open local server.
   */
  natsCredentials: { user?: string; pass?: string };
  /** Sent as `Authorization: Bearer …` on every request (see accessTokenOf). */
  token: string | undefined;
  topology: EventsTopology;
  timeoutMs: number;
  /** Sent as `namespace` with every request that acts in one (-n, $CAMPAIGN_NAMESPACE). */
  namespace?: string | undefined;
}

export function clientSettings(env: NodeJS.ProcessEnv): ClientSettings {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  // NATS_PASSWORD, or the file NATS_PASSWORD_FILE names (a compose secret).
  const natsPassword = readOptionalSecretVariable(env, 'NATS_PASSWORD');
  if (natsPassword?.problem !== undefined) throw new CliFailure(natsPassword.problem, EXIT.usage);
  // Without NATS_URL, the broker the config file names (npm start's), as its user.
  const saved = read('NATS_URL') === undefined ? savedNatsOf(env) : undefined;
  const user = read('NATS_USER') ?? saved?.user;
  const pass = natsPassword?.value ?? saved?.password;
  return {
    natsUrl: read('NATS_URL') ?? saved?.url ?? DEFAULT_NATS_URL,
    natsCredentials: {
      ...(user === undefined ? {} : { user }),
      ...(pass === undefined ? {} : { pass }),
    },
    token: accessTokenOf(env),
    topology: {
      streamName: read('EVENTS_STREAM') ?? 'EVENTS',
      subjectPrefix: read('EVENTS_SUBJECT_PREFIX') ?? 'ev',
    },
    timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    namespace: namespaceOf(env),
  };
}

/** spec-service's request/reply API over NATS (libs/contracts), both ways checked by its schemas. */
export class SpecServiceClient {
  private constructor(
    private readonly nats: NatsConnection,
    private readonly settings: ClientSettings,
  ) {}

  /** Connects once (no retries: a CLI answers at once when NATS is down). */
  static async connect(settings: ClientSettings): Promise<SpecServiceClient> {
    try {
      const nats = await connect({
        ...natsConnectTarget(settings.natsUrl, settings.natsCredentials),
        name: 'campaign-cli',
        timeout: 5_000,
        reconnect: false,
      });
      return new SpecServiceClient(nats, settings);
    } catch (error) {
      if (error instanceof AuthorizationError)
        throw new CliFailure(
          `NATS at ${redactUrl(settings.natsUrl)} refused the connection: check NATS_USER and NATS_PASSWORD`,
          EXIT_NOT_AUTHENTICATED,
        );
      throw new CliFailure(
        `cannot reach NATS at ${redactUrl(settings.natsUrl)} — is it running? (set NATS_URL)`,
        2,
      );
    }
  }

  /**
   * One request; the reply as spec-service sent it (`ok: false` included). Throws CliFailure when
   * nothing answers in time, or the answer is not an API reply.
   */
  async request<T>(verb: ApiVerb, body: unknown): Promise<ApiReply<T>> {
    const subject = apiSubject(this.settings.topology, verb);
    const payload = this.payload(verb, body);
    const key = newReplyKey();
    let data: Uint8Array;
    try {
      const reply = await this.nats.request(subject, payload, {
        timeout: this.settings.timeoutMs,
        headers: this.headers(key),
      });
      data = reply.data;
    } catch (error) {
      throw requestFailure(subject, error);
    }
    return openedReply<T>(verb, subject, key, data);
  }

  /**
   * One request answered by several messages ending with an empty one (see `preview` in
   * libs/contracts): the replies in order, the end marker left out. All must
   * arrive within the request timeout; an answer cut short is a CliFailure, not a short list.
   */
  async requestMany<T>(verb: ApiVerb, body: unknown): Promise<ApiReply<T>[]> {
    const subject = apiSubject(this.settings.topology, verb);
    const payload = this.payload(verb, body);
    const key = newReplyKey();
    const replies: ApiReply<T>[] = [];
    try {
      const messages = await this.nats.requestMany(subject, payload, {
        strategy: 'sentinel',
        maxWait: this.settings.timeoutMs,
        headers: this.headers(key),
      });
      for await (const message of messages) {
        if (message.data.length === 0) return replies;
        replies.push(openedReply<T>(verb, subject, key, message.data));
      }
    } catch (error) {
      if (error instanceof CliFailure) throw error;
      throw requestFailure(subject, error);
    }
    // The iteration ended at maxWait without the end marker.
    if (replies.length === 0)
      throw new CliFailure(`spec-service is not answering on ${subject} — is it running?`, 2);
    throw new CliFailure(
      `spec-service's answer on ${subject} was cut short: its end did not arrive within ${this.settings.timeoutMs} ms (set CAMPAIGN_REQUEST_TIMEOUT_MS)`,
      2,
    );
  }

  /**
   * The key the replies are sealed to (libs/contracts sealed-reply.ts), and the caller's
   * credential when there is a token.
   */
  private headers(key: ReplyKey): MsgHdrs {
    const h = headers();
    h.set(REPLY_KEY_HEADER, key.header);
    if (this.settings.token !== undefined)
      h.set(AUTHORIZATION_HEADER, `Bearer ${this.settings.token}`);
    return h;
  }

  /** The request as JSON, checked against the verb's contract before it is sent. */
  private payload(verb: ApiVerb, request: unknown): string {
    const body =
      this.settings.namespace !== undefined &&
      NAMESPACED_VERBS.has(verb) &&
      typeof request === 'object' &&
      request !== null &&
      !('namespace' in request)
        ? { ...request, namespace: this.settings.namespace }
        : request;
    const checked = API_CONTRACTS[verb].request.safeParse(body);
    if (!checked.success) {
      throw new CliFailure(`invalid ${verb} request: ${describeInvalid(checked.error)}`, 1);
    }
    const payload = JSON.stringify(body);
    const bytes = Buffer.byteLength(payload);
    if (bytes > MAX_API_REQUEST_BYTES) {
      throw new CliFailure(
        `the request is ${bytes} bytes; spec-service accepts at most ${MAX_API_REQUEST_BYTES} bytes (1 MiB)`,
        1,
      );
    }
    return payload;
  }

  async close(): Promise<void> {
    await this.nats.close().catch(() => undefined);
  }
}

/** Runs `use` with a connected client and closes it afterwards. */
export async function withSpecService<T>(
  env: NodeJS.ProcessEnv,
  use: (client: SpecServiceClient) => Promise<T>,
  settings: ClientSettings = clientSettings(env),
): Promise<T> {
  const client = await SpecServiceClient.connect(settings);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

function requestFailure(subject: string, error: unknown): CliFailure {
  if (isNotAnswering(error))
    return new CliFailure(`spec-service is not answering on ${subject} — is it running?`, 2);
  return new CliFailure(
    `request to ${subject} failed: ${error instanceof Error ? error.message : String(error)}`,
    2,
  );
}

/**
 * A reply message opened with the request's key and checked (parseReply). Only a refusal may come
 * in the clear (spec-service refuses a bad key unsealed); an answer in the clear came from a
 * responder that does not seal, and is not taken.
 */
function openedReply<T>(
  verb: ApiVerb,
  subject: string,
  key: ReplyKey,
  data: Uint8Array,
): ApiReply<T> {
  if (!isSealed(data)) {
    const reply = parseReply<T>(verb, subject, Buffer.from(data).toString('utf8'));
    if (reply.ok)
      throw new CliFailure(
        `spec-service answered ${subject} unsealed, readable by every holder of the NATS user; is it older than this CLI?`,
        1,
      );
    return reply;
  }
  let text: string;
  try {
    text = openReply(key, data);
  } catch {
    throw new CliFailure(
      `spec-service's answer on ${subject} does not open with this request's key`,
      1,
    );
  }
  return parseReply<T>(verb, subject, text);
}

/** The reply, checked against the verb's contract (libs/contracts): an error or what it promises. */
function parseReply<T>(verb: ApiVerb, subject: string, text: string): ApiReply<T> {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    throw new CliFailure(`spec-service answered ${subject} with something that is not JSON`, 1);
  }
  if (
    typeof reply !== 'object' ||
    reply === null ||
    typeof (reply as { ok?: unknown }).ok !== 'boolean'
  ) {
    throw new CliFailure(
      `spec-service answered ${subject} with something that is not an API reply`,
      1,
    );
  }
  const problem = replyProblem(verb, reply);
  if (problem !== null) {
    throw new CliFailure(
      `spec-service answered ${subject} with a reply that does not match the API: ${problem}`,
      1,
    );
  }
  return reply as ApiReply<T>;
}

function isNotAnswering(error: unknown): boolean {
  if (error instanceof TimeoutError || error instanceof NoRespondersError) return true;
  if (error instanceof RequestError) {
    return (
      error.isNoResponders() ||
      error.cause instanceof TimeoutError ||
      error.cause instanceof NoRespondersError
    );
  }
  return false;
}
