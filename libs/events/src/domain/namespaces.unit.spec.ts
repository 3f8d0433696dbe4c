import { describe, expect, it } from '@jest/globals';
import {
  campaignKey,
  campaignRefOf,
  DEFAULT_NAMESPACE,
  namespaceKeyPattern,
} from './namespaces.js';

describe('campaign keys', () => {
  it('qualify a campaign by its namespace, except in default, where it keeps its bare name', () => {
    expect(campaignKey({ namespace: 'alice', name: 'hello-world' })).toBe('alice/hello-world');
    expect(campaignKey({ namespace: DEFAULT_NAMESPACE, name: 'hello-world' })).toBe('hello-world');
  });

  it('read a key recorded before namespaces (a bare name) as a campaign of default', () => {
    expect(campaignRefOf('hello-world')).toEqual({ namespace: 'default', name: 'hello-world' });
    expect(campaignRefOf('acme/hello-world')).toEqual({ namespace: 'acme', name: 'hello-world' });
  });

  it('go back and forth unchanged', () => {
    for (const ref of [
      { namespace: 'default', name: 'a' },
      { namespace: 'bob', name: 'a.b_c-1' },
    ])
      expect(campaignRefOf(campaignKey(ref))).toEqual(ref);
  });

  it('select one namespace in SQL: default is every key without a slash, _ and % are literal', () => {
    expect(namespaceKeyPattern('default')).toEqual({ like: '%/%', negate: true });
    expect(namespaceKeyPattern('a_b')).toEqual({ like: 'a\\_b/%', negate: false });
  });
});
