import { categoryOf } from '../store/event.js';
import {
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';

/** Names of the JetStream stream that carries the event log, and its subject prefix. */
export interface EventsTopology {
  /** JetStream stream name (default `EVENTS`). */
  streamName: string;
  /** Subjects are `<prefix>.<category>.<type>` (default prefix `ev`). */
  subjectPrefix: string;
}

export const DEFAULT_TOPOLOGY: EventsTopology = Object.freeze({
  streamName: 'EVENTS',
  subjectPrefix: 'ev',
});

const ms = (n: number) => n * 1_000_000;

export function subjectOf(topology: EventsTopology, streamId: string, type: string): string {
  return `${topology.subjectPrefix}.${categoryOf(streamId)}.${type}`;
}

/**
 * Creates the events stream, or brings its subjects and duplicate window to what we need.
 * Idempotent: every relay candidate and consumer calls it at start.
 */
export async function ensureEventsStream(
  jsm: JetStreamManager,
  topology: EventsTopology,
  options: { duplicateWindowMs?: number } = {},
): Promise<void> {
  await ensureStream(jsm, {
    name: topology.streamName,
    subjects: [`${topology.subjectPrefix}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: ms(options.duplicateWindowMs ?? 120_000),
  });
}

/**
 * Creates a stream, or brings an existing one's subjects and duplicate window to `wanted`
 * (nothing else is changed on a live stream). Safe when several processes call it at once.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  wanted: Partial<StreamConfig> & { name: string; subjects: string[]; duplicate_window: number },
): Promise<void> {
  try {
    const info = await jsm.streams.info(wanted.name);
    const c = info.config;
    if (
      c.subjects.join() !== wanted.subjects.join() ||
      c.duplicate_window !== wanted.duplicate_window
    ) {
      await jsm.streams.update(wanted.name, {
        ...c,
        subjects: wanted.subjects,
        duplicate_window: wanted.duplicate_window,
      });
    }
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    try {
      await jsm.streams.add(wanted);
    } catch (addErr) {
      // Another process created it between our look-up and our add.
      if (!/already in use|already exists/i.test((addErr as Error).message)) throw addErr;
    }
  }
}
