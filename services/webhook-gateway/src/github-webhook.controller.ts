import type { IncomingHttpHeaders } from 'node:http';
import { WebhookVerificationError } from '@campaigns/codehost';
import {
  EventTooLargeError,
  EventValidationError,
  SecretInEventError,
  UnknownEventTypeError,
} from '@campaigns/events';
import { httpRejections, SERVICE_CONTEXT, type ServiceContext } from '@campaigns/service-kit';
import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { deliveryHeaderProblem, factsProblem } from './delivery-problems.js';
import { QueueFullError, QueueStoppedError } from './group-commit-queue.js';
import type { WebhookRecorder } from './webhook-recorder.js';
import type { WebhookVerifier } from './webhook-verifier.js';

/** Injection token of the gateway's verifier and recorder. */
export const WEBHOOK_GATEWAY = Symbol('WebhookGateway');

export interface WebhookGateway {
  verifier: WebhookVerifier;
  recorder: WebhookRecorder;
}

/** The parts of Express's request and response this controller uses. */
interface WebhookRequest {
  headers: IncomingHttpHeaders;
  /** The body's exact bytes, unparsed (ServiceDefinition.http.rawBody). */
  rawBody?: Buffer;
}
interface WebhookResponse {
  status(code: number): WebhookResponse;
  setHeader(name: string, value: string): unknown;
  json(body: unknown): unknown;
}

/**
 * `POST /webhooks/github`: verifies the signature over the body's bytes, only then parses it, and
 * records what a tracked pull request's delivery says as ChangesetObserved. Answers only after the
 * commit. Every refusal is counted by reason (`http_requests_rejected_total`); bodies over the
 * limit (413) or too slow to arrive (408) are refused by the service kit before this runs.
 */
@Controller('webhooks')
export class GithubWebhookController {
  private readonly rejected: Counter<'reason'>;

  constructor(
    @Inject(WEBHOOK_GATEWAY) private readonly gateway: WebhookGateway,
    @Inject(SERVICE_CONTEXT) private readonly context: ServiceContext,
  ) {
    this.rejected = httpRejections(context.registry);
  }

  @Post('github')
  async github(@Req() req: WebhookRequest, @Res() res: WebhookResponse): Promise<void> {
    const logger = this.context.logger;
    const deliveryId = header(req.headers['x-github-delivery'])?.slice(0, 100);
    const refuse = (status: number, reason: string, error: string): void => {
      this.rejected.inc({ reason });
      res.status(status).json({ error });
    };
    // 401: not signed. Checked before anything else is looked at.
    if (header(req.headers['x-hub-signature-256']) === undefined) {
      logger.warn({ deliveryId }, 'webhook refused: no X-Hub-Signature-256');
      refuse(401, 'missing_signature', 'the webhook has no X-Hub-Signature-256 header');
      return;
    }
    // 415: GitHub's "application/x-www-form-urlencoded" hooks wrap the JSON in a form field.
    const contentType = header(req.headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      refuse(415, 'unsupported_media_type', "set the webhook's content type to application/json");
      return;
    }
    let verified;
    try {
      verified = await this.gateway.verifier.verify(req.headers, req.rawBody ?? Buffer.alloc(0));
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      // 400: signed, but not a JSON object (or no delivery headers).
      if (error.reason === 'bad_payload') {
        refuse(400, 'malformed_delivery', error.message);
        return;
      }
      // 401: the signature matches no configured secret. Nothing was parsed.
      logger.warn({ deliveryId, reason: error.reason }, 'webhook refused: signature not verified');
      refuse(401, 'bad_signature', 'signature does not match');
      return;
    }
    const { delivery, host } = verified;
    // 400: a delivery id or event name no code host sends; it could never be recorded.
    const headerProblem = deliveryHeaderProblem(delivery.id, delivery.event);
    if (headerProblem !== undefined) {
      logger.warn({ deliveryId, reason: headerProblem }, 'webhook refused: bad delivery headers');
      refuse(400, 'bad_delivery_headers', headerProblem);
      return;
    }
    const about = { deliveryId: delivery.id, event: delivery.event, action: delivery.action };
    const facts = host.webhookFacts(delivery);
    // 422: it says something that can never be stored (a NUL, a lone surrogate, a huge number).
    const problem = facts === null ? undefined : factsProblem(delivery, facts);
    if (problem !== undefined) {
      logger.warn({ ...about, reason: problem }, 'webhook cannot be recorded');
      refuse(422, 'unrecordable', `the webhook cannot be recorded: ${problem}`);
      return;
    }
    let result;
    try {
      result = await this.gateway.recorder.record(delivery, facts);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // 503: too many deliveries wait already (or the gateway is stopping): later, not slower.
      if (error instanceof QueueFullError || error instanceof QueueStoppedError) {
        logger.warn({ ...about, reason }, 'webhook not taken');
        res.setHeader('Retry-After', '5');
        refuse(503, 'overloaded', reason);
        return;
      }
      // 422: the store refuses it for good (e.g. a title holding a secret); again would not help.
      if (isPermanent(error)) {
        logger.error({ ...about, reason }, 'webhook cannot be recorded');
        refuse(422, 'refused_by_store', 'the webhook cannot be recorded');
        return;
      }
      // 503: the database failed; GitHub (or an operator) delivers again.
      logger.error({ ...about, reason }, 'webhook not recorded');
      res.setHeader('Retry-After', '10');
      refuse(503, 'not_recorded', 'the webhook could not be recorded; deliver it again');
      return;
    }
    switch (result.outcome) {
      // 200: the observations and the delivery id committed, or it was recorded before.
      case 'recorded':
        logger.info({ ...about, changesets: result.changesetIds }, 'webhook recorded');
        res.status(200).json({ recorded: result.changesetIds.length });
        return;
      case 'duplicate':
        logger.info(about, 'webhook already recorded');
        res.status(200).json({ duplicate: true });
        return;
      // 202: about a pull request no changeset tracks yet: held, and recorded if one does soon.
      case 'held':
        logger.debug(about, 'webhook held until its pull request is tracked');
        res.status(202).json({ held: 'untracked' });
        return;
      // 202: accepted, with nothing to record (an event not followed, an echo, or stale).
      case 'ignored':
        logger.debug({ ...about, reason: result.reason }, 'webhook ignored');
        res.status(202).json({ ignored: result.reason });
        return;
    }
  }
}

/** Errors that the same delivery would meet again: the store's refusals, and data PostgreSQL refuses. */
function isPermanent(error: unknown): boolean {
  if (
    error instanceof SecretInEventError ||
    error instanceof EventValidationError ||
    error instanceof EventTooLargeError ||
    error instanceof UnknownEventTypeError
  )
    return true;
  // SQLSTATE class 22 (data exception) and 54 (program limit exceeded, e.g. an index row too large).
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
