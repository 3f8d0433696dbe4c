import { createHash, randomBytes } from 'node:crypto';

/** Every access token starts with this, so a leaked one is recognisable (and scannable). */
export const ACCESS_TOKEN_PREFIX = 'cmp_';

/** 32 bytes of the system's cryptographic randomness, base64url, after the prefix. */
export function newAccessToken(): string {
  return ACCESS_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** What the database keeps of a token: its SHA-256, hex. The token itself is never stored. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A user name: also the user's own namespace, so it stays short and path-safe. */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Why a user name is refused, or null when it is fine. */
export function userNameProblem(name: string): string | null {
  return USER_NAME_PATTERN.test(name)
    ? null
    : `"${name.slice(0, 80)}" is not a user name: 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit`;
}

/**
 * The token of an `Authorization: Bearer cmp_…` header value, or why there is none. The reasons
 * never repeat the value: it may be a real token sent in the wrong shape.
 */
export function bearerToken(
  authorization: string | undefined,
): { token: string } | { problem: string } {
  if (authorization === undefined || authorization.trim() === '')
    return { problem: 'no access token was sent; set CAMPAIGN_TOKEN or run "campaign login"' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  if (!match) return { problem: 'the Authorization header is not "Bearer <token>"' };
  const token = match[1]!;
  if (!token.startsWith(ACCESS_TOKEN_PREFIX) || token.length > 200)
    return {
      problem: `the access token is not a campaign token (they start with ${ACCESS_TOKEN_PREFIX})`,
    };
  return { token };
}
