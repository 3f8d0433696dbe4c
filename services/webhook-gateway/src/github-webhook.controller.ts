import type { IncomingHttpHeaders } from 'node:http';
import { WebhookVerificationError } from '@campaigns/codehost';
import {
  EventTooLargeError,
  EventValidationError,
  SecretInEventError,
  UnknownEventTypeError,
} from '@campaigns/events';
import { SERVICE_CONTEXT, type ServiceContext } from '@campaigns/service-kit';
import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
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
  /** The body's exact bytes, kept by the JSON parser (ServiceDefinition.http.rawBody). */
  rawBody?: Buffer;
}
interface WebhookResponse {
  status(code: number): WebhookResponse;
  setHeader(name: string, value: string): unknown;
  json(body: unknown): unknown;
}

/**
 * `POST /webhooks/github`: verifies the signature, then records what a tracked pull request's
 * delivery says as ChangesetObserved. Answers only after the commit: 200 recorded or duplicate,
 * 202 accepted but nothing to record, 401 unverified (nothing recorded), 422 when the store
 * refuses the observation for good (e.g. it would hold a secret), 503 on database trouble
 * (GitHub redelivers). Bodies over the service's limit are refused with 413 earlier.
 */
@Controller('webhooks')
export class GithubWebhookController {
  constructor(
    @Inject(WEBHOOK_GATEWAY) private readonly gateway: WebhookGateway,
    @Inject(SERVICE_CONTEXT) private readonly context: ServiceContext,
  ) {}

  @Post('github')
  async github(@Req() req: WebhookRequest, @Res() res: WebhookResponse): Promise<void> {
    const logger = this.context.logger;
    const deliveryId = header(req.headers['x-github-delivery']);
    if (header(req.headers['x-hub-signature-256']) === undefined) {
      logger.warn({ deliveryId }, 'webhook refused: no X-Hub-Signature-256');
      res.status(401).json({ error: 'the webhook has no X-Hub-Signature-256 header' });
      return;
    }
    const contentType = header(req.headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json' || req.rawBody === undefined) {
      // GitHub's "application/x-www-form-urlencoded" hooks wrap the JSON in a form field.
      res.status(415).json({ error: "set the webhook's content type to application/json" });
      return;
    }
    let verified;
    try {
      verified = await this.gateway.verifier.verify(req.headers, req.rawBody.toString('utf8'));
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      if (error.reason === 'bad_payload') {
        res.status(400).json({ error: error.message });
        return;
      }
      logger.warn({ deliveryId, reason: error.reason }, 'webhook refused: signature not verified');
      res.status(401).json({ error: 'signature does not match' });
      return;
    }
    const { delivery, host } = verified;
    const about = { deliveryId: delivery.id, event: delivery.event, action: delivery.action };
    let result;
    try {
      result = await this.gateway.recorder.record(delivery, host.webhookFacts(delivery));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (isPermanent(error)) {
        // Delivering it again cannot help (e.g. a title holding a secret the store refuses).
        logger.error({ ...about, reason }, 'webhook cannot be recorded');
        res.status(422).json({ error: 'the webhook cannot be recorded' });
        return;
      }
      logger.error({ ...about, reason }, 'webhook not recorded');
      res.setHeader('Retry-After', '10');
      res.status(503).json({ error: 'the webhook could not be recorded; deliver it again' });
      return;
    }
    switch (result.outcome) {
      case 'recorded':
        logger.info({ ...about, changesets: result.changesetIds }, 'webhook recorded');
        res.status(200).json({ recorded: result.changesetIds.length });
        return;
      case 'duplicate':
        logger.info(about, 'webhook already recorded');
        res.status(200).json({ duplicate: true });
        return;
      case 'ignored':
        logger.debug({ ...about, reason: result.reason }, 'webhook ignored');
        res.status(202).json({ ignored: result.reason });
        return;
    }
  }
}

function isPermanent(error: unknown): boolean {
  return (
    error instanceof SecretInEventError ||
    error instanceof EventValidationError ||
    error instanceof EventTooLargeError ||
    error instanceof UnknownEventTypeError
  );
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
