import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectTestNats, TEST_NATS_URL } from '@campaigns/events/testing';

/** EVENTS_STREAM and EVENTS_SUBJECT_PREFIX no other test run uses, so runs never share a stream. */
export function uniqueEventsEnv(): { EVENTS_STREAM: string; EVENTS_SUBJECT_PREFIX: string } {
  const id = randomBytes(4).toString('hex');
  return { EVENTS_STREAM: `EVENTS_T${id}`, EVENTS_SUBJECT_PREFIX: `evt${id}` };
}

/** Deletes a test's stream once it is done, so runs leave nothing behind in JetStream. */
export async function deleteEventsStream(
  env: { EVENTS_STREAM: string },
  natsUrl = TEST_NATS_URL,
): Promise<void> {
  const nats = await connectTestNats(natsUrl);
  try {
    await (await jetstreamManager(nats)).streams.delete(env.EVENTS_STREAM).catch(() => undefined);
  } finally {
    await nats.close();
  }
}
