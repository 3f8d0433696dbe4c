import { describe, expect, it } from '@jest/globals';
import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://app:hunter22@db:5432/campaigns', 'postgres://app:***@db:5432/campaigns'],
    [
      'postgres://db/campaigns?user=app&password=hunter22',
      'postgres://db/campaigns?user=app&password=***',
    ],
    ['nats://app:hunter22@n1:4222', 'nats://app:***@n1:4222'],
    ['nats://hunter22@n1:4222', 'nats://***@n1:4222'],
    ['nats://n1:4222,nats://app:hunter22@n2:4222', 'nats://n1:4222,nats://app:***@n2:4222'],
  ])('masks the secret in %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it.each([
    ['nats://app:hunter22@n1:port', 'nats://…'],
    ['nats://n1:port?token=hunter22', 'nats://…'],
    ['postgres://db:x/campaigns?password=hunter22', 'postgres://…'],
    ['app:hunter22@somewhere', 'app:…'],
  ])('cuts %s after its scheme: it does not parse, and may hold a credential', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it('leaves a URL without secrets as it was, so operators recognise it', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/campaigns')).toBe(
      'postgres://postgres@127.0.0.1:5432/campaigns',
    );
    expect(redactUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
    expect(redactUrl('nats://n1:port')).toBe('nats://n1:port');
  });
});
