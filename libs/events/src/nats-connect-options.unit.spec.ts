import { describe, expect, it } from '@jest/globals';
import { natsConnectTarget } from './nats-connect-options.js';

describe('natsConnectTarget', () => {
  it('connects as given when the URLs hold no user', () => {
    expect(natsConnectTarget('nats://n1:4222, nats://n2:4222')).toEqual({
      servers: ['nats://n1:4222', 'nats://n2:4222'],
    });
  });

  it('takes the user and password out of a URL, which nats.js would not read', () => {
    expect(natsConnectTarget('nats://cli:s%40cret@127.0.0.1:4222')).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      user: 'cli',
      pass: 's@cret',
    });
  });

  it('lets NATS_USER and NATS_PASSWORD win over the URL, and ignores empty ones', () => {
    expect(
      natsConnectTarget('nats://cli:one@127.0.0.1:4222', { user: 'services', pass: 'two' }),
    ).toEqual({ servers: ['nats://127.0.0.1:4222'], user: 'services', pass: 'two' });
    expect(natsConnectTarget('nats://127.0.0.1:4222', { user: '', pass: '' })).toEqual({
      servers: ['nats://127.0.0.1:4222'],
    });
  });
});
