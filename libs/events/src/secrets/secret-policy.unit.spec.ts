import { describe, expect, it } from '@jest/globals';
import {
  MIN_SECRET_LENGTH,
  REDACTED,
  SecretRedactor,
  secretLengthProblem,
} from './secret-policy.js';

describe('SecretRedactor', () => {
  const redactor = new SecretRedactor(['s3cr3t-value', 's3cr3t-value-longer', 'abc']);

  it('replaces every occurrence, longest secret first, in text and nested values', () => {
    expect(redactor.text('a s3cr3t-value-longer b s3cr3t-value')).toBe('a [redacted] b [redacted]');
    expect(redactor.value({ list: ['x s3cr3t-value'], n: 1, s3cr3t_value: null })).toEqual({
      list: ['x [redacted]'],
      n: 1,
      s3cr3t_value: null,
    });
    // Too short to redact without mangling innocent text.
    expect(redactor.text('abc')).toBe('abc');
    expect(redactor.occursIn(Buffer.from('+ s3cr3t-value\n'))).toBe(true);
    expect(redactor.occursIn(Buffer.from('+ nothing\n'))).toBe(false);
  });

  it('given a secret that is a prefix of another, when the longer one occurs, then none of it is left', () => {
    const prefixFirst = new SecretRedactor(['token-12345', 'token-12345-and-more']);
    expect(prefixFirst.text('<token-12345-and-more>')).toBe(`<${REDACTED}>`);
  });

  it('given a secret in an object key, when the value is redacted, then the key is redacted too', () => {
    expect(redactor.value({ 's3cr3t-value': ['s3cr3t-value-longer', true, 2] })).toEqual({
      [REDACTED]: [REDACTED, true, 2],
    });
  });

  it(`given values of ${MIN_SECRET_LENGTH - 1} and ${MIN_SECRET_LENGTH} characters, then only the second is a secret it looks for`, () => {
    const short = 'x'.repeat(MIN_SECRET_LENGTH - 1);
    const long = 'y'.repeat(MIN_SECRET_LENGTH);
    const policy = new SecretRedactor([short, long]);
    expect(policy.text(`${short} ${long}`)).toBe(`${short} ${REDACTED}`);
    expect(policy.occursInText(short)).toBe(false);
    expect(policy.occursInText(`a${long}b`)).toBe(true);
    expect(policy.occursIn(Buffer.from(short))).toBe(false);
  });

  it('given a secret with non-ASCII characters, then it is found in text and in its UTF-8 bytes', () => {
    const policy = new SecretRedactor(['pässwörd-ünïcode']);
    expect(policy.occursInText('x pässwörd-ünïcode y')).toBe(true);
    expect(policy.occursIn(Buffer.from('diff\n+pässwörd-ünïcode\n'))).toBe(true);
    expect(policy.occursIn(Buffer.from('diff\n+passwords-unicode\n'))).toBe(false);
  });

  it('given no secrets, then nothing is redacted or found', () => {
    const none = new SecretRedactor([]);
    expect(none.text('anything at all')).toBe('anything at all');
    expect(none.occursInText('anything at all')).toBe(false);
    expect(none.occursIn(Buffer.from('anything at all'))).toBe(false);
  });
});

describe('secretLengthProblem', () => {
  it('given a value shorter than the minimum, then it says why in words that never quote the value', () => {
    const problem = secretLengthProblem('hunter2');
    expect(problem).toBe(
      `is shorter than ${MIN_SECRET_LENGTH} characters, too short to be redacted without mangling ordinary text; use a longer secret`,
    );
    expect(problem).not.toContain('hunter2');
  });

  it('given a value of the minimum length or longer, then there is no problem', () => {
    expect(secretLengthProblem('x'.repeat(MIN_SECRET_LENGTH))).toBeNull();
    expect(secretLengthProblem('ghp_0123456789abcdef0123456789abcdef0123')).toBeNull();
  });

  it('finds a secret in serialised JSON, escaped as JSON escapes it', () => {
    const quoted = 'pa"ss\\word-0123';
    const policy = new SecretRedactor([quoted, 'plain-secret-0123']);
    const json = JSON.stringify({ label: `token ${quoted}` });
    expect(json).not.toContain(quoted);
    expect(policy.occursInText(json)).toBe(false);
    expect(policy.occursInJson(json)).toBe(true);
    expect(policy.occursInJson(JSON.stringify({ a: 'plain-secret-0123' }))).toBe(true);
    expect(policy.occursInJson(JSON.stringify({ a: 'pass word 0123' }))).toBe(false);
  });
});
