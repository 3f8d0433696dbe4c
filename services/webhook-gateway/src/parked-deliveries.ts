import { LoopComponent, sleep, silentLogger, type EventsLogger } from '@campaigns/events';
import type { ServiceComponent } from '@campaigns/service-kit';
import type { Pool } from 'pg';
import { dropExpired, parkedNowTracked } from './recorder-state.js';
import type { WebhookRecorder } from './webhook-recorder.js';

export interface ParkedDeliveriesOptions {
  pool: Pool;
  recorder: WebhookRecorder;
  /** Time between looks (default 250 ms). */
  intervalMs?: number;
  logger?: EventsLogger;
}

/** Most held deliveries taken up per look. */
const TAKE = 500;

/**
 * Takes up held deliveries once their pull request is tracked. A delivery that arrives before the
 * reconciler's ChangesetPublished is projected (GitHub sends `pull_request.opened`, and CI its
 * first statuses, while the reconciler is still recording the pull request it just opened) is
 * held, not dropped; this component hands it to the recorder as soon as the projection tracks its
 * pull request or head commit, and drops what expired. Each is recorded once (the recorder takes
 * it out of the held ones in the transaction that records it).
 */
export class ParkedDeliveries extends LoopComponent implements ServiceComponent {
  readonly name = 'parked-deliveries';
  private readonly logger: EventsLogger;
  private readonly inFlight = new Set<string>();

  constructor(private readonly options: ParkedDeliveriesOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
  }

  protected async run(signal: AbortSignal): Promise<void> {
    const interval = this.options.intervalMs ?? 250;
    while (!signal.aborted) {
      try {
        await this.takeUp();
      } catch (error) {
        this.logger.warn(
          { err: (error as Error).message },
          'held webhooks: look failed; next later',
        );
      }
      await sleep(interval, signal);
    }
  }

  /** One look: hands every held delivery now tracked to the recorder, drops the expired. */
  async takeUp(): Promise<number> {
    const { pool, recorder } = this.options;
    await dropExpired(pool);
    const items = (await parkedNowTracked(pool, TAKE)).filter(
      (i) => !this.inFlight.has(i.delivery.id),
    );
    for (const item of items) {
      this.inFlight.add(item.delivery.id);
      recorder
        .record({ ...item.delivery, payload: {} }, item.facts, { parked: true })
        .then(
          (result) =>
            this.logger.info({ deliveryId: item.delivery.id, ...result }, 'held webhook taken up'),
          (error: unknown) =>
            this.logger.warn(
              { deliveryId: item.delivery.id, err: (error as Error).message },
              'held webhook not recorded; tried again later',
            ),
        )
        .finally(() => this.inFlight.delete(item.delivery.id));
    }
    return items.length;
  }
}
