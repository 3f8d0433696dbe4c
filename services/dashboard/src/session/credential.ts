// How the dashboard knows who is asking: the access token (S2) of the signed-in user, kept in an
// HttpOnly cookie the pages cannot read, or sent by a script as `Authorization: Bearer cmp_…`.
// The dashboard never decides who may do what: it forwards the token to spec-service with every
// request, and spec-service checks it every time (a revoked token stops working at once).

/** The cookie that holds the signed-in user's access token. */
export const SESSION_COOKIE = 'campaigns_token';

/** How long a sign-in lasts in the browser; the token itself may be revoked sooner. */
export const SESSION_MAX_AGE_S = 12 * 60 * 60;

/** Access tokens are `cmp_` and base64url (spec-service's access-tokens.ts); a bound on length. */
const TOKEN_SHAPE = /^cmp_[A-Za-z0-9_-]{16,196}$/;

/** The value of one cookie of a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The caller's access token: a script's `Authorization: Bearer …` first, else the session
 * cookie; undefined when neither holds something shaped like a token.
 */
export function credentialOf(headers: {
  authorization?: string | undefined;
  cookie?: string | undefined;
}): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization?.trim() ?? '')?.[1];
  const token = bearer ?? cookieValue(headers.cookie, SESSION_COOKIE);
  return token !== undefined && TOKEN_SHAPE.test(token) ? token : undefined;
}

/** Why a token typed into the sign-in form cannot be one (never repeating it), or null. */
export function tokenShapeProblem(token: unknown): string | null {
  if (typeof token !== 'string' || token.trim() === '') return 'paste an access token (cmp_…)';
  return TOKEN_SHAPE.test(token.trim())
    ? null
    : 'that is not an access token: they start with cmp_ (campaign admin tokens create USER)';
}

/**
 * The Set-Cookie value that signs the browser in (token) or out (null): HttpOnly so the pages'
 * scripts never see it, SameSite=Strict so no other site's page can send it (which, with the
 * API taking only JSON bodies, is the dashboard's CSRF defence), Secure behind HTTPS.
 */
export function sessionCookie(token: string | null, secure: boolean): string {
  const value = token === null ? '' : encodeURIComponent(token);
  const age = token === null ? 0 : SESSION_MAX_AGE_S;
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${age}${secure ? '; Secure' : ''}`;
}
