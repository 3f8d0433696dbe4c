/** What a redacted secret reads as, wherever it is redacted. */
export const REDACTED = '[redacted]';

/**
 * The shortest value the system accepts as a secret. A secret is both refused by the event store
 * and redacted from what steps and code hosts print, so a value that short would occur in
 * innocent text by coincidence: appends would be refused and logs mangled for no reason. Eight
 * characters is where the event store drew that line first; real tokens are far longer, and a
 * shorter secret is weak anyway. Readers of configured secrets refuse shorter values
 * (`secretLengthProblem`), so every secret the system holds is one it redacts.
 */
export const MIN_SECRET_LENGTH = 8;

/**
 * Why `value` cannot be a secret, to follow the name of the variable or field that holds it
 * (never the value itself), or null when it can.
 */
export function secretLengthProblem(value: string): string | null {
  return value.length < MIN_SECRET_LENGTH
    ? `is shorter than ${MIN_SECRET_LENGTH} characters, too short to be redacted without mangling ordinary text; use a longer secret`
    : null;
}

/** A JSON-like value whose strings (and keys) can be redacted. */
export type JsonLike =
  string | number | boolean | null | readonly JsonLike[] | { readonly [key: string]: JsonLike };

/**
 * The one redaction policy: finds and replaces the given secrets, ignoring values shorter than
 * MIN_SECRET_LENGTH. Longest first, so that a secret which is a prefix of another cannot leave
 * the rest of the longer one behind.
 */
export class SecretRedactor {
  readonly #secrets: readonly string[];
  readonly #bytes: readonly Buffer[];
  /** Each secret as it reads inside a JSON string, where that differs (`"`, `\`, controls). */
  readonly #inJson: readonly string[];

  constructor(secrets: Iterable<string>) {
    this.#secrets = [...new Set(secrets)]
      .filter((s) => s.length >= MIN_SECRET_LENGTH)
      .sort((a, b) => b.length - a.length);
    this.#bytes = this.#secrets.map((s) => Buffer.from(s));
    this.#inJson = this.#secrets
      .map((s) => JSON.stringify(s).slice(1, -1))
      .filter((escaped, i) => escaped !== this.#secrets[i]);
  }

  /** The text with every occurrence of every secret replaced by REDACTED. */
  text(value: string): string {
    let out = value;
    for (const secret of this.#secrets) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** Redacts every string (keys too) of a JSON-like value. */
  value<T extends JsonLike>(value: T): T {
    return this.#value(value) as T;
  }

  #value(value: JsonLike): JsonLike {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v: JsonLike) => this.#value(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [this.text(k), this.#value(v)]),
      );
    }
    return value;
  }

  /** Whether some secret occurs in the bytes (e.g. a diff or a blob, which is never rewritten). */
  occursIn(content: Buffer): boolean {
    return this.#bytes.some((s) => content.includes(s));
  }

  /** Whether some secret occurs in the text. */
  occursInText(text: string): boolean {
    return this.#secrets.some((s) => text.includes(s));
  }

  /**
   * Whether some secret occurs in serialised JSON (an event's payload): as it is, or escaped as
   * JSON escapes it inside a string (a secret with a `"` or a `\` reads differently there).
   */
  occursInJson(json: string): boolean {
    return this.occursInText(json) || this.#inJson.some((s) => json.includes(s));
  }
}
