import { describe, expect, it } from '@jest/globals';
import {
  isSealed,
  newReplyKey,
  openReply,
  replyKeyOf,
  sealReply,
  SealedReplyError,
} from './sealed-reply.js';

const TEXT = JSON.stringify({ ok: true, token: 'cmp_secret-of-carol', note: 'ünïcödé' });

describe('sealed replies', () => {
  it('opens with the key it was sealed to, and only with that one', () => {
    const own = newReplyKey();
    const sealed = sealReply(replyKeyOf(own.header)!, TEXT);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed.includes(Buffer.from('cmp_secret'))).toBe(false);
    expect(openReply(own, sealed)).toBe(TEXT);
    // An eavesdropper's own key opens nothing.
    expect(() => openReply(newReplyKey(), sealed)).toThrow(SealedReplyError);
  });

  it('seals each message afresh: the same text twice gives two different messages', () => {
    const own = newReplyKey();
    const recipient = replyKeyOf(own.header)!;
    const [a, b] = [sealReply(recipient, TEXT), sealReply(recipient, TEXT)];
    expect(a.equals(b)).toBe(false);
    expect([openReply(own, a), openReply(own, b)]).toEqual([TEXT, TEXT]);
  });

  it('refuses a message altered anywhere: version, key, IV, tag or ciphertext', () => {
    const own = newReplyKey();
    const sealed = sealReply(replyKeyOf(own.header)!, TEXT);
    for (const at of [0, 1, 33, 45, 61, sealed.length - 1]) {
      const altered = Buffer.from(sealed);
      altered[at]! ^= 0x01;
      expect(() => openReply(own, altered)).toThrow(SealedReplyError);
    }
    expect(() => openReply(own, sealed.subarray(0, 40))).toThrow(SealedReplyError);
    expect(() => openReply(own, Buffer.from(TEXT))).toThrow('the reply is not sealed');
  });

  it('takes only an X25519 public key as the header, and no low-order point', () => {
    expect(replyKeyOf(newReplyKey().header)).toBeDefined();
    for (const header of [
      '',
      'not a key',
      newReplyKey().header.slice(1),
      `${newReplyKey().header}A`,
      `${'A'.repeat(42)}=`,
      Buffer.alloc(32).toString('base64url'),
      Buffer.from([1, ...new Array<number>(31).fill(0)]).toString('base64url'),
    ])
      expect(replyKeyOf(header)).toBeUndefined();
  });

  it('tells sealed messages from JSON and the empty end marker', () => {
    expect(isSealed(Buffer.from(TEXT))).toBe(false);
    expect(isSealed(new Uint8Array())).toBe(false);
  });
});
