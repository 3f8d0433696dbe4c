import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeWebhookBody, webhookSignatureMatches } from './webhook-signature.js';

const secret = 'whsec_unit';
const sign = (bytes: Uint8Array) =>
  `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;

describe('webhookSignatureMatches', () => {
  it('Given a signed body, when verified, then only its exact bytes match', () => {
    const body = Buffer.from('{"action":"opened"}');
    expect(webhookSignatureMatches(secret, body, sign(body))).toBe(true);
    expect(
      webhookSignatureMatches(secret, body, sign(body).toUpperCase().replace('SHA256', 'sha256')),
    ).toBe(true);
    expect(webhookSignatureMatches(secret, Buffer.from('{"action":"closed"}'), sign(body))).toBe(
      false,
    );
    expect(webhookSignatureMatches('another', body, sign(body))).toBe(false);
  });

  it('Given two bodies that decode to the same text, when one is signed, then the other does not match', () => {
    // 0xff and 0xfe are both invalid UTF-8: decoded, each becomes U+FFFD, so an HMAC over the
    // decoded text would accept the unsigned one.
    const signed = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    const forged = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xfe, 0x22, 0x7d]);
    expect(signed.toString('utf8')).toBe(forged.toString('utf8'));
    expect(webhookSignatureMatches(secret, signed, sign(signed))).toBe(true);
    expect(webhookSignatureMatches(secret, forged, sign(signed))).toBe(false);
  });

  it('refuses signatures that are not sha256=<64 hex digits>', () => {
    const body = Buffer.from('{}');
    for (const signature of [
      '',
      'sha256=',
      'sha1=abc',
      `sha256=${'0'.repeat(63)}`,
      sign(body).slice(7),
    ])
      expect(webhookSignatureMatches(secret, body, signature)).toBe(false);
  });
});

describe('decodeWebhookBody', () => {
  it('decodes UTF-8 and refuses bytes that are not', () => {
    expect(decodeWebhookBody(Buffer.from('{"t":"héllo"}'))).toBe('{"t":"héllo"}');
    expect(decodeWebhookBody(Buffer.from([0x7b, 0xff, 0x7d]))).toBeUndefined();
  });
});
