import type { TemplateValue } from '@campaigns/campaign-spec';

export const REDACTED = '[redacted]';

/** Secret values this short would blank out innocent text by coincidence; they are not redacted. */
export const MIN_REDACTED_LENGTH = 4;

/** Replaces every occurrence of the secrets (longest first, so a secret's prefix cannot leak). */
export class Redactor {
  readonly #secrets: readonly string[];

  constructor(secrets: Iterable<string>) {
    this.#secrets = [...new Set(secrets)]
      .filter((s) => s.length >= MIN_REDACTED_LENGTH)
      .sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.#secrets) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** Redacts every string (keys too) of a JSON-like value. */
  value(value: TemplateValue): TemplateValue {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.value(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [this.text(k), this.value(v as TemplateValue)]),
      );
    }
    return value;
  }

  /** Whether some secret occurs in the bytes (e.g. a diff, which is never rewritten). */
  occursIn(content: Buffer): boolean {
    return this.#secrets.some((s) => content.includes(Buffer.from(s)));
  }
}
