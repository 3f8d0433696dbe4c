/** How a caller should treat a failed code host operation. */
export type CodeHostErrorKind = 'retryable' | 'terminal' | 'rate_limited';

/** Where a failure happened: the operation and, when known, the repository and pull request. */
export interface CodeHostErrorContext {
  operation: string;
  repo?: string;
  number?: number;
  status?: number;
}

/**
 * Every failure of a `CodeHost` operation. `retryable`: try again with backoff (5xx, timeouts,
 * resets); `terminal`: retrying will not help (auth, archived, validation); `rate_limited`: wait
 * `retryAfterMs`, then retry.
 */
export class CodeHostError extends Error {
  override readonly name = 'CodeHostError';
  readonly kind: CodeHostErrorKind;
  readonly retryAfterMs?: number;
  readonly context: CodeHostErrorContext;

  constructor(
    kind: CodeHostErrorKind,
    message: string,
    context: CodeHostErrorContext,
    options: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(`${describeWhere(context)}: ${message}`, { cause: options.cause });
    this.kind = kind;
    this.context = context;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      retryAfterMs: this.retryAfterMs,
      ...this.context,
    };
  }
}

function describeWhere(context: CodeHostErrorContext): string {
  const where = [context.repo, context.number === undefined ? undefined : `#${context.number}`]
    .filter((part) => part !== undefined)
    .join(' ');
  return where === '' ? context.operation : `${context.operation} ${where}`;
}

/** A webhook whose signature is missing or does not match the configured secret. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly reason: 'missing_signature' | 'bad_signature' | 'no_secret' | 'bad_payload',
    message: string,
  ) {
    super(message);
  }
}
