import { REPLY_KEY_HEADER, replyKeyOf, sealReply, type ApiError } from '@campaigns/contracts';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  NatsContext,
  Server,
  type CustomTransportStrategy,
  type MessageHandler,
} from '@nestjs/microservices';
import { lastValueFrom, toArray } from 'rxjs';
import { describeError } from '../logging/describe-error.js';
import type { ServiceLogger } from '../logging/service-logger.js';

export interface NatsRequestServerOptions {
  /** The service's NATS connection (shared with its consumers; drained by the service). */
  readonly nats: NatsConnection;
  /** Queue group: the replicas of a service share the requests. */
  readonly queue: string;
  /** The subject a `@MessagePattern` is served on (e.g. a test's own prefix). */
  readonly subjectOf: (pattern: string) => string;
  /** Largest request accepted; a larger one is refused before it is parsed. */
  readonly maxRequestBytes: number;
  /** Largest reply message; a handler's larger reply is logged and answered as `internal`. */
  readonly maxReplyBytes: number;
  readonly logger: ServiceLogger;
}

/** `@MessagePattern(pattern, { streamed: true })`: answered by several messages, then an empty one. */
export interface RequestPatternExtras {
  readonly streamed?: boolean;
}

type Reply = ({ ok: true } & object) | { ok: false; error: ApiError };

/**
 * A Nest transport strategy for request/reply over NATS with the `@nats-io` v3 client the whole
 * system uses (so it shares the service's one connection and its drain on shutdown). It serves
 * every `@MessagePattern` of the service's controllers on `subjectOf(pattern)` in a queue group,
 * and speaks the API's wire format (libs/contracts): a JSON object in; `{ ok: true, ...reply }`
 * or `{ ok: false, error }` out. A handler returning an Observable with `{ streamed: true }`
 * sends each value as one message, then an empty one (the sentinel `requestMany` stops at).
 *
 * Nest's own NATS transport wraps payloads in `{ pattern, data, id }` packets and opens its own
 * connection; this one keeps the plain JSON the CLI and `nats req` speak.
 */
export class NatsRequestServer extends Server implements CustomTransportStrategy {
  private subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private listening = false;

  constructor(private readonly options: NatsRequestServerOptions) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    try {
      for (const [pattern, handler] of this.messageHandlers) {
        if (handler.isEventHandler) continue;
        const subject = this.options.subjectOf(pattern);
        const streamed = (handler.extras as RequestPatternExtras | undefined)?.streamed === true;
        this.subscriptions.push(
          this.options.nats.subscribe(subject, {
            queue: this.options.queue,
            callback: (err, msg) => {
              if (err) {
                this.options.logger.error({ subject, reason: err.message }, 'subscription failed');
                return;
              }
              const done = this.serve(pattern, handler, msg, streamed).finally(() =>
                this.inFlight.delete(done),
              );
              this.inFlight.add(done);
            },
          }),
        );
      }
    } catch (error) {
      callback(error);
      return;
    }
    // The subscriptions are registered on the server once this round trip returns.
    this.options.nats.flush().then(
      () => {
        this.listening = true;
        callback();
      },
      (error: unknown) => callback(error),
    );
  }

  /** Stops taking requests and waits for those in flight to be answered. */
  async close(): Promise<void> {
    this.listening = false;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    await Promise.allSettled([...this.inFlight]);
  }

  /** Subscribed, not closing, and the connection is open. */
  ready(): boolean {
    return this.listening && !this.options.nats.isClosed();
  }

  on(): never {
    throw new Error('NatsRequestServer has no events to listen to; see the NATS connection');
  }

  unwrap<T>(): T {
    return this.options.nats as T;
  }

  /**
   * Answers a request. A request with a REPLY_KEY_HEADER gets every reply message sealed to that
   * key (libs/contracts sealed-reply.ts); one whose key is not an X25519 public key is refused
   * before its handler runs, in the clear (the refusal says nothing of anyone's data).
   */
  private async serve(
    pattern: string,
    handler: MessageHandler,
    msg: Msg,
    streamed: boolean,
  ): Promise<void> {
    const keyHeader = msg.headers?.get(REPLY_KEY_HEADER) ?? '';
    const replyKey = keyHeader === '' ? undefined : replyKeyOf(keyHeader);
    const replies =
      keyHeader !== '' && replyKey === undefined
        ? [{ ok: false as const, error: invalid(BAD_REPLY_KEY).error }]
        : await this.answer(pattern, handler, msg);
    if (!msg.reply) return;
    for (const reply of replies) {
      const text = this.bounded(pattern, reply);
      msg.respond(replyKey === undefined ? text : sealReply(replyKey, text));
    }
    if (streamed) msg.respond();
  }

  private async answer(pattern: string, handler: MessageHandler, msg: Msg): Promise<Reply[]> {
    const request = this.parse(msg);
    if ('error' in request) return [{ ok: false, error: request.error }];
    try {
      const context = new NatsContext([msg.subject, msg.headers]);
      const values = await lastValueFrom(
        this.transformToObservable(await handler(request.body, context)).pipe(toArray()),
      );
      return values.map((value) => ({ ok: true, ...(value as object) }));
    } catch (error) {
      // The ApiExceptionFilter has turned it into an ApiError; anything else is a bug here.
      if (isApiError(error)) return [{ ok: false, error }];
      this.options.logger.error({ pattern, reason: describeError(error) }, 'request failed');
      return [{ ok: false, error: { code: 'internal', message: describeError(error) } }];
    }
  }

  /** The request's JSON object (an empty message is `{}`), or why it is refused. */
  private parse(msg: Msg): { body: Record<string, unknown> } | { error: ApiError } {
    const { maxRequestBytes } = this.options;
    if (msg.data.length > maxRequestBytes)
      return invalid(`the request is over ${maxRequestBytes} bytes`);
    let body: unknown;
    try {
      body = msg.data.length === 0 ? {} : JSON.parse(msg.string());
    } catch {
      return invalid('the request is not JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      return invalid('the request must be a JSON object');
    return { body: body as Record<string, unknown> };
  }

  /** The reply as JSON; never over maxReplyBytes (handlers cut pages to fit, so this is a bug). */
  private bounded(pattern: string, reply: Reply): string {
    const text = JSON.stringify(reply);
    const bytes = Buffer.byteLength(text);
    const { maxReplyBytes, logger } = this.options;
    if (bytes <= maxReplyBytes) return text;
    logger.error({ pattern, bytes }, 'reply over the size limit not sent');
    const error: ApiError = {
      code: 'internal',
      message: `the reply was ${bytes} bytes, over the limit of ${maxReplyBytes}`,
    };
    return JSON.stringify({ ok: false, error });
  }
}

const BAD_REPLY_KEY = `the ${REPLY_KEY_HEADER} header is not an X25519 public key (43 base64url characters)`;
const invalid = (message: string) => ({ error: { code: 'invalid-request', message } as ApiError });

function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiError).code === 'string' &&
    typeof (value as ApiError).message === 'string'
  );
}
