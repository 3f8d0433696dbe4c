import { inspect } from 'node:util';
import { REDACTED, SecretRedactor } from '@campaigns/events';

/**
 * A token or webhook secret held in memory only. Every way of printing it (string conversion,
 * JSON, `util.inspect`, template literals) yields `[redacted]`; only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself: pass it straight to the one place that needs it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Replaces every occurrence of each secret in a text (for messages that quote foreign output),
 * by the events library's one secret policy.
 */
export function redact(text: string, secrets: readonly (Secret | undefined)[]): string {
  return new SecretRedactor(secrets.flatMap((s) => (s === undefined ? [] : [s.reveal()]))).text(
    text,
  );
}
