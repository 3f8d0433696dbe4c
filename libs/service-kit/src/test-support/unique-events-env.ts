import { randomBytes } from 'node:crypto';

/** EVENTS_STREAM and EVENTS_SUBJECT_PREFIX no other test run uses, so runs never share a stream. */
export function uniqueEventsEnv(): { EVENTS_STREAM: string; EVENTS_SUBJECT_PREFIX: string } {
  const id = randomBytes(4).toString('hex');
  return { EVENTS_STREAM: `EVENTS_T${id}`, EVENTS_SUBJECT_PREFIX: `evt${id}` };
}
