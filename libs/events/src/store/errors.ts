/** Base of every error the events library raises on purpose; `code` is stable for callers. */
export class EventsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Another writer appended to the stream first: re-read the stream and decide again. */
export class ConcurrencyError extends EventsError {
  constructor(
    readonly streamId: string,
    readonly expected: string,
    readonly actual: bigint | null,
  ) {
    super(
      'CONCURRENCY',
      `stream ${streamId}: expected ${expected} but the stream is at ${actual === null ? 'no stream' : `version ${actual}`}; re-read it and retry`,
    );
  }
}

/** An event id is already stored with different content: the id was reused for another event. */
export class IdempotencyConflictError extends EventsError {
  constructor(readonly eventId: string) {
    super(
      'IDEMPOTENCY_CONFLICT',
      `event ${eventId} is already stored with different content; a retry must resend the same event, a new event needs a new id`,
    );
  }
}

export class UnknownEventTypeError extends EventsError {
  constructor(
    readonly type: string,
    known: readonly string[],
  ) {
    super(
      'UNKNOWN_EVENT_TYPE',
      `event type "${type}" is not in the catalogue (known: ${known.join(', ') || 'none'})`,
    );
  }
}

export class EventValidationError extends EventsError {
  constructor(
    readonly type: string,
    readonly field: string,
    message: string,
  ) {
    super('INVALID_EVENT', message);
  }
}

export class EventTooLargeError extends EventsError {
  constructor(
    readonly type: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      'EVENT_TOO_LARGE',
      `${type}: payload is ${bytes} bytes, over the ${limit}-byte limit; store large fields with putBlob and keep their sha256 in the event`,
    );
  }
}

/** A payload contained a configured secret value; the secret itself is never repeated in the message. */
export class SecretInEventError extends EventsError {
  constructor(readonly type: string) {
    super(
      'SECRET_IN_EVENT',
      `${type}: payload or metadata contains a configured secret; secrets never enter the event store`,
    );
  }
}
