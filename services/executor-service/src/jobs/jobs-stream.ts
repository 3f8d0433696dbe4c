import { RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { ensureStream, type JobsTopology } from '@campaigns/events';

/** How long JetStream remembers a job's msgID: a job re-published within it is dropped. */
export const JOBS_DUPLICATE_WINDOW_MS = 10 * 60_000;

/**
 * Creates the execution jobs' work-queue stream (WorkQueue retention: a job is gone once a
 * worker acknowledges it; file storage), or brings its subjects and duplicate window up to date.
 * Idempotent: the dispatcher and every worker call it at start.
 */
export async function ensureJobsStream(jsm: JetStreamManager, jobs: JobsTopology): Promise<void> {
  await ensureStream(jsm, {
    name: jobs.streamName,
    subjects: [jobs.subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: JOBS_DUPLICATE_WINDOW_MS * 1_000_000,
  });
}
