import { describe, expect, it } from '@jest/globals';
import { accessTokenHash, bearerToken, newAccessToken, userNameProblem } from './access-tokens.js';

describe('access tokens', () => {
  it('are cmp_ and 32 random bytes in base64url, never the same twice', () => {
    const tokens = new Set(Array.from({ length: 100 }, newAccessToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^cmp_[A-Za-z0-9_-]{43}$/);
  });

  it('are kept as their SHA-256, which does not contain them', () => {
    const token = newAccessToken();
    expect(accessTokenHash(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(accessTokenHash(token)).toBe(accessTokenHash(token));
    expect(accessTokenHash(token)).not.toContain(token.slice(4, 12));
  });

  it('come from an "Authorization: Bearer" header; anything else says why without repeating it', () => {
    const token = newAccessToken();
    expect(bearerToken(`Bearer ${token}`)).toEqual({ token });
    expect(bearerToken(`bearer  ${token} `)).toEqual({ token });
    for (const header of [
      undefined,
      '',
      `Basic ${token}`,
      'Bearer ghp_secret',
      `Bearer ${token} x`,
    ]) {
      const result = bearerToken(header);
      expect(result).toHaveProperty('problem');
      expect(JSON.stringify(result)).not.toContain('secret');
      expect(JSON.stringify(result)).not.toContain(token);
    }
  });

  it('belong to users whose names are short and path-safe', () => {
    expect(userNameProblem('alice')).toBeNull();
    expect(userNameProblem('a.b_c-1')).toBeNull();
    for (const bad of ['', '-x', 'a b', 'a/b', 'x'.repeat(64)])
      expect(userNameProblem(bad)).not.toBeNull();
  });
});
