import {
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { JobsTopology } from '@campaigns/events';

/** How long JetStream remembers a job's msgID: a job re-published within it is dropped. */
export const JOBS_DUPLICATE_WINDOW_MS = 10 * 60_000;

/**
 * Creates the execution jobs' work-queue stream (WorkQueue retention: a job is gone once a
 * worker acknowledges it; file storage), or brings its subjects and duplicate window up to date.
 * Idempotent: the dispatcher and every worker call it at start.
 */
export async function ensureJobsStream(jsm: JetStreamManager, jobs: JobsTopology): Promise<void> {
  const wanted: Partial<StreamConfig> & { name: string; subjects: string[] } = {
    name: jobs.streamName,
    subjects: [jobs.subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: JOBS_DUPLICATE_WINDOW_MS * 1_000_000,
  };
  try {
    const info = await jsm.streams.info(jobs.streamName);
    const c = info.config;
    if (
      c.subjects.join() !== wanted.subjects.join() ||
      c.duplicate_window !== wanted.duplicate_window
    ) {
      await jsm.streams.update(jobs.streamName, {
        ...c,
        subjects: wanted.subjects,
        duplicate_window: wanted.duplicate_window!,
      });
    }
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    try {
      await jsm.streams.add(wanted);
    } catch (addErr) {
      if (!/already in use|already exists/i.test((addErr as Error).message)) throw addErr;
    }
  }
}
