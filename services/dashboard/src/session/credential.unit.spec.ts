import { describe, expect, it } from '@jest/globals';
import {
  cookieValue,
  credentialOf,
  SESSION_COOKIE,
  sessionCookie,
  tokenShapeProblem,
} from './credential.js';

const TOKEN = `cmp_${'A1_-'.repeat(10)}xyz`;

describe('the dashboard credential', () => {
  it('reads the token from a Bearer header first, else from the session cookie', () => {
    const cookie = `theme=dark; ${SESSION_COOKIE}=${TOKEN}; other=1`;
    expect(credentialOf({ cookie })).toBe(TOKEN);
    const other = `cmp_${'b'.repeat(43)}`;
    expect(credentialOf({ cookie, authorization: `Bearer ${other}` })).toBe(other);
    expect(credentialOf({ authorization: `bearer ${TOKEN}` })).toBe(TOKEN);
  });

  it('takes nothing that is not shaped like an access token', () => {
    expect(credentialOf({})).toBeUndefined();
    expect(credentialOf({ cookie: `${SESSION_COOKIE}=` })).toBeUndefined();
    expect(
      credentialOf({ cookie: `${SESSION_COOKIE}=ghp_notours0123456789abcdef` }),
    ).toBeUndefined();
    expect(credentialOf({ authorization: `Basic ${TOKEN}` })).toBeUndefined();
    expect(credentialOf({ cookie: `${SESSION_COOKIE}=cmp_${'a'.repeat(300)}` })).toBeUndefined();
    expect(credentialOf({ cookie: `${SESSION_COOKIE}=%E0%A4%A` })).toBeUndefined();
    expect(cookieValue(`x=${'a'.repeat(9000)}`, 'x')).toBeUndefined();
  });

  it('explains a pasted value that cannot be a token without repeating it', () => {
    expect(tokenShapeProblem(TOKEN)).toBeNull();
    expect(tokenShapeProblem(` ${TOKEN}\n`)).toBeNull();
    expect(tokenShapeProblem(undefined)).toBe('paste an access token (cmp_…)');
    const wrong = tokenShapeProblem('ghp_secretvalue0123456789');
    expect(wrong).toMatch(/^that is not an access token/);
    expect(wrong).not.toContain('secretvalue');
  });

  it('keeps the cookie from scripts and other sites, Secure behind HTTPS, and clears it on sign-out', () => {
    const set = sessionCookie(TOKEN, false);
    expect(set).toBe(
      `${SESSION_COOKIE}=${TOKEN}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200`,
    );
    expect(sessionCookie(TOKEN, true)).toMatch(/; Secure$/);
    expect(sessionCookie(null, false)).toBe(
      `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
    );
  });
});
