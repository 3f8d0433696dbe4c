import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerConfig,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  isDependencyOutage,
  jobsTopology,
  LoopHealth,
  silentLogger,
  sleep,
  type EventsLogger,
  type EventsTopology,
  type ExecutionJob,
} from '@campaigns/events';
import type { ExecutionOutcome, ExecutionRunner } from '../execution/execution-runner.js';
import { JOB_EVENT_ID_HEADER } from './job-dispatcher.js';
import { ensureJobsStream } from './jobs-stream.js';

export interface JobWorkerOptions {
  nats: NatsConnection;
  topology: EventsTopology;
  runner: Pick<ExecutionRunner, 'execute' | 'giveUp'> & Partial<Pick<ExecutionRunner, 'close'>>;
  /**
   * Jobs whose steps run at once (the runner's slots). Twice as many are taken from the queue,
   * so a slot never waits for the next job: step-cache hits need no slot, the rest wait for one.
   */
  concurrency: number;
  /** A job not acknowledged nor heartbeated for this long goes to another worker. */
  ackWaitMs: number;
  /** Deliveries after which an internal error is recorded as ExecutionFailed 'internal'. */
  maxAttempts: number;
  /** How long `stop` waits for running jobs before it naks them for another replica. */
  stopDeadlineMs: number;
  logger?: EventsLogger;
  /** Called with every finished job (tests, metrics). */
  onOutcome?: (job: ExecutionJob, outcome: ExecutionOutcome) => void;
}

const ns = (ms: number) => ms * 1_000_000;

/**
 * Competing consumer of the execution jobs' work queue: every replica pulls from the one durable
 * consumer (`jobsTopology().durableName`), explicit acks, `ack_wait` kept alive with
 * `working()` while a job runs. The job is acknowledged only after its result event committed;
 * a crash before that redelivers it after `ack_wait`, and the next worker converges.
 */
export class JobWorker {
  readonly name = 'jobs:worker';
  readonly #health = new LoopHealth();
  readonly #abort = new AbortController();
  readonly #running = new Map<JsMsg, { heartbeat: NodeJS.Timeout; abandon: AbortController }>();
  readonly #logger: EventsLogger;
  readonly #inFlight = new Set<Promise<void>>();
  #consumer?: Consumer;
  #puller: Promise<void> = Promise.resolve();
  #wake: (() => void) | null = null;

  constructor(private readonly options: JobWorkerOptions) {
    this.#logger = options.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    const jobs = jobsTopology(this.options.topology);
    const jsm = await jetstreamManager(this.options.nats);
    await ensureJobsStream(jsm, jobs);
    const config: Partial<ConsumerConfig> & { durable_name: string } = {
      durable_name: jobs.durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ns(this.options.ackWaitMs),
      // Redelivery is unbounded: a job is only done once its result is in the store.
      max_deliver: -1,
    };
    try {
      await jsm.consumers.add(jobs.streamName, config);
    } catch (err) {
      if (!/already exists|already in use/i.test((err as Error).message)) throw err;
      await jsm.consumers.update(jobs.streamName, jobs.durableName, config);
    }
    this.#consumer = await jetstream(this.options.nats).consumers.get(
      jobs.streamName,
      jobs.durableName,
    );
    this.#health.markStarted();
    this.#puller = this.#pull();
  }

  get #limit(): number {
    return this.options.concurrency * 2;
  }

  /** Stops pulling and waits for running jobs; past the deadline they are nak'ed for another replica. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    const all = this.#puller.then(() => Promise.all(this.#inFlight));
    const deadline = new Promise<'late'>((resolve) =>
      setTimeout(() => resolve('late'), this.options.stopDeadlineMs).unref(),
    );
    if ((await Promise.race([all, deadline])) === 'late') {
      for (const [msg, { heartbeat, abandon }] of this.#running) {
        // Abandoned first: whatever the job computes from now on (e.g. after the next worker
        // removed its container) is never recorded.
        abandon.abort();
        clearInterval(heartbeat);
        msg.nak();
      }
      this.#logger.warn(
        { jobs: this.#running.size, stopDeadlineMs: this.options.stopDeadlineMs },
        'stopping past the deadline: running jobs handed back to the queue',
      );
    }
    // Their containers go too: an abandoned job's step stops here.
    await this.options.runner.close?.();
  }

  ready(): boolean {
    return this.#health.ready(this.#abort.signal.aborted);
  }

  /**
   * Takes as many jobs as there is room for in one pull request (`fetch`, a batch), starts each
   * at once, and pulls again when a job finishes: the slots never wait for a round trip.
   */
  async #pull(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const room = this.#limit - this.#inFlight.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = null;
        continue;
      }
      try {
        const batch = await this.#consumer!.fetch({ max_messages: room, expires: 1000 });
        for await (const msg of batch) {
          if (signal.aborted) {
            msg.nak();
            continue;
          }
          const task: Promise<void> = this.#handle(msg).finally(() => {
            this.#inFlight.delete(task);
            this.#wake?.();
          });
          this.#inFlight.add(task);
        }
        this.#health.succeeded();
      } catch (err) {
        this.#health.failed();
        this.#logger.error({ err: (err as Error).message }, 'job fetch failed; retrying');
        await sleep(1000, signal);
      }
    }
  }

  async #handle(msg: JsMsg): Promise<void> {
    let job: ExecutionJob;
    try {
      job = msg.json<ExecutionJob>();
    } catch (err) {
      this.#logger.error({ err: (err as Error).message }, 'undecodable job terminated');
      msg.term('undecodable');
      return;
    }
    const attempt = msg.info.deliveryCount;
    const abandon = new AbortController();
    const delivery = {
      attempt,
      queuedEventId: msg.headers?.get(JOB_EVENT_ID_HEADER) || null,
      abandoned: abandon.signal,
      lastAttempt: attempt >= this.options.maxAttempts,
    };
    const heartbeat = setInterval(() => msg.working(), Math.max(200, this.options.ackWaitMs / 3));
    this.#running.set(msg, { heartbeat, abandon });
    try {
      let outcome: ExecutionOutcome;
      try {
        outcome = await this.options.runner.execute(job, delivery);
      } catch (err) {
        // PostgreSQL or NATS away is not the job's failure: retried for as long as it lasts.
        if (attempt < this.options.maxAttempts || isDependencyOutage(err)) throw err;
        outcome = await this.options.runner.giveUp(job, delivery, err);
      }
      if (abandon.signal.aborted) {
        this.#logger.warn({ executionId: job.executionId, attempt }, 'job abandoned at stop');
        this.options.onOutcome?.(job, { kind: 'abandoned' });
        return;
      }
      if (outcome.kind === 'superseded') {
        this.#logger.warn(
          { executionId: job.executionId, attempt },
          'a later delivery of this job started elsewhere; this run is not recorded',
        );
        clearInterval(heartbeat);
        this.options.onOutcome?.(job, outcome);
        return;
      }
      await msg.ackAck().catch(() => msg.ack());
      this.#logger.info(
        { executionId: job.executionId, attempt, outcome: outcome.kind },
        'job finished',
      );
      this.options.onOutcome?.(job, outcome);
    } catch (err) {
      if (abandon.signal.aborted) {
        // Stopping removed its workspace and containers under it: an error is expected, and ignored.
        this.#logger.warn({ executionId: job.executionId, attempt }, 'job abandoned at stop');
        this.options.onOutcome?.(job, { kind: 'abandoned' });
        return;
      }
      // An outage is retried every few seconds at most, so the job resumes soon after it ends.
      const delay = Math.min(1000 * 2 ** (attempt - 1), isDependencyOutage(err) ? 5_000 : 60_000);
      this.#logger.error(
        { executionId: job.executionId, attempt, err: (err as Error).message, retryInMs: delay },
        'job failed; will retry',
      );
      if (!abandon.signal.aborted) msg.nak(delay);
    } finally {
      clearInterval(heartbeat);
      this.#running.delete(msg);
    }
  }
}
