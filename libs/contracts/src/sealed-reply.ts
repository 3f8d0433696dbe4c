import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

/**
 * Sealed replies: spec-service's answers readable only by the client that asked.
 *
 * Every CLI shares the broker's one `cli` user (deploy/nats/nats.conf), whose `_INBOX.>` permission
 * lets one holder subscribe to the others' replies — tokens issued by `admin tokens create`, the
 * campaigns of a private namespace. So the client makes an X25519 key pair for each request and
 * sends its public half in this header; the request itself is seen only by the services (the `cli`
 * user may not subscribe to `campaign.>`). spec-service seals each reply message to that key:
 * an ephemeral X25519 key of its own, HKDF-SHA256 of the shared secret (salted with both public
 * keys) into an AES-256-GCM key. A reply message is then
 *
 *     0x01 | ephemeral public key (32) | IV (12) | GCM tag (16) | ciphertext
 *
 * and an eavesdropper on `_INBOX.>` sees only that. The end-of-stream marker of a streamed answer
 * stays empty (it says nothing). Nobody but the services can publish on a `cli` user's inbox, so a
 * reply cannot be forged there; the GCM tag still rejects anything altered on the way.
 */
export const REPLY_KEY_HEADER = 'Campaign-Reply-Key';

const VERSION = 0x01;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_BYTES + IV_BYTES + TAG_BYTES;
const INFO = Buffer.from('campaigns sealed reply v1');
/** A raw X25519 public key in unpadded base64url, as JWK's `x` writes it. */
const PUBLIC_KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;

/** The client's key for one request: `header` goes in REPLY_KEY_HEADER, the private half stays. */
export interface ReplyKey {
  readonly header: string;
  readonly privateKey: KeyObject;
}

/** A reply that is not sealed to the key, or does not open with it. */
export class SealedReplyError extends Error {}

export function newReplyKey(): ReplyKey {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { header: rawTextOf(publicKey), privateKey };
}

/**
 * The recipient's public key from a REPLY_KEY_HEADER value; undefined when it is not one, or is
 * one of the few points no secret can be agreed with (X25519's low-order points).
 */
export function replyKeyOf(header: string): KeyObject | undefined {
  if (!PUBLIC_KEY_TEXT.test(header)) return undefined;
  try {
    const key = publicKeyOf(header);
    diffieHellman({ privateKey: probe().privateKey, publicKey: key });
    return key;
  } catch {
    return undefined;
  }
}

function publicKeyOf(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
}

let probeKeys: { privateKey: KeyObject } | undefined;
const probe = () => (probeKeys ??= generateKeyPairSync('x25519'));

/** True when a reply message has the sealed form (its first byte is the version, not JSON). */
export function isSealed(message: Uint8Array): boolean {
  return message.length >= HEADER_BYTES && message[0] === VERSION;
}

/** `plaintext` sealed to `recipient` (see the module comment). Throws on a low-order key. */
export function sealReply(recipient: KeyObject, plaintext: string | Uint8Array): Buffer {
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralRaw = rawOf(ephemeral.publicKey);
  const key = derivedKey(
    diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }),
    ephemeralRaw,
    rawOf(recipient),
  );
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([
    cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext),
    cipher.final(),
  ]);
  return Buffer.concat([Buffer.from([VERSION]), ephemeralRaw, iv, cipher.getAuthTag(), body]);
}

/** The text of a reply sealed to `own`; throws SealedReplyError when it is not. */
export function openReply(own: ReplyKey, message: Uint8Array): string {
  if (!isSealed(message)) throw new SealedReplyError('the reply is not sealed');
  const sealed = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const ephemeralRaw = sealed.subarray(1, 1 + KEY_BYTES);
  const iv = sealed.subarray(1 + KEY_BYTES, 1 + KEY_BYTES + IV_BYTES);
  const tag = sealed.subarray(1 + KEY_BYTES + IV_BYTES, HEADER_BYTES);
  try {
    // A low-order ephemeral key fails in diffieHellman, as any other that is not the sender's.
    const key = derivedKey(
      diffieHellman({
        privateKey: own.privateKey,
        publicKey: publicKeyOf(ephemeralRaw.toString('base64url')),
      }),
      ephemeralRaw,
      Buffer.from(own.header, 'base64url'),
    );
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(sealed.subarray(HEADER_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SealedReplyError('the reply is not sealed to this key');
  }
}

function derivedKey(shared: Buffer, ephemeralRaw: Buffer, recipientRaw: Buffer): Buffer {
  const salt = Buffer.concat([ephemeralRaw, recipientRaw]);
  return Buffer.from(hkdfSync('sha256', shared, salt, INFO, KEY_BYTES));
}

function rawTextOf(publicKey: KeyObject): string {
  const { x } = publicKey.export({ format: 'jwk' });
  if (x === undefined) throw new Error('an X25519 public key without x');
  return x;
}

function rawOf(publicKey: KeyObject): Buffer {
  return Buffer.from(rawTextOf(publicKey), 'base64url');
}
