import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Whether `X-Hub-Signature-256` is the HMAC-SHA256 of the body's exact bytes under `secret`.
 * Over the bytes, not a decoded string: decoding first would let two different bodies (say, with
 * invalid UTF-8 sequences) share a signature. Compared in constant time.
 */
export function webhookSignatureMatches(
  secret: string,
  rawBody: Uint8Array,
  signature: string,
): boolean {
  const hex = SIGNATURE.exec(signature.trim())?.[1];
  if (hex === undefined) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text, or undefined when its bytes are not UTF-8 (GitHub always sends UTF-8). */
export function decodeWebhookBody(rawBody: Uint8Array): string | undefined {
  try {
    return utf8.decode(rawBody);
  } catch {
    return undefined;
  }
}
