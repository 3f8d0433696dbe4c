import { describe, expect, it } from '@jest/globals';
import type { Caller } from './identity-store.js';
import {
  accessProblem,
  defaultNamespaceOf,
  namespacesOf,
  type Access,
  type NamespaceInfo,
} from './permissions.js';

const alice: Caller = { user: 'alice', siteAdmin: false, tokenId: '1' };
const root: Caller = { user: 'root', siteAdmin: true, tokenId: '2' };
const org = (visibility: 'private' | 'public', callerIsMember: boolean): NamespaceInfo => ({
  kind: 'org',
  name: 'acme',
  visibility,
  callerIsMember,
});

describe('who may read and change a namespace’s campaigns', () => {
  const table: [string, Caller, NamespaceInfo, Access, boolean][] = [
    ['a user, their own namespace', alice, { kind: 'user', name: 'alice' }, 'write', true],
    ['a user, another user’s, to read', alice, { kind: 'user', name: 'bob' }, 'read', false],
    ['a user, another user’s, to change', alice, { kind: 'user', name: 'bob' }, 'write', false],
    ['a member, a private organization', alice, org('private', true), 'write', true],
    ['a non-member, a private organization, to read', alice, org('private', false), 'read', false],
    ['a non-member, a public organization, to read', alice, org('public', false), 'read', true],
    ['a non-member, a public organization, to change', alice, org('public', false), 'write', false],
    ['a user, default', alice, { kind: 'default' }, 'read', false],
    ['a site admin, default', root, { kind: 'default' }, 'write', true],
    ['a site admin, another user’s', root, { kind: 'user', name: 'alice' }, 'write', true],
    ['a site admin, a private organization', root, org('private', false), 'write', true],
  ];
  it.each(table)('%s: allowed %#', (_what, caller, namespace, access, allowed) => {
    const problem = accessProblem(caller, namespace, access);
    expect(problem === null).toBe(allowed);
    if (problem !== null) expect(problem).toMatch(/\S/);
  });

  it('acts in a user’s own namespace unless the request names one; a site admin’s is default', () => {
    expect(defaultNamespaceOf(alice)).toBe('alice');
    expect(defaultNamespaceOf(root)).toBe('default');
  });

  it('lists the namespaces a user acts in: their own, their organizations, default for admins', () => {
    expect(namespacesOf(alice, ['acme'])).toEqual(['alice', 'acme']);
    expect(namespacesOf(root, [])).toEqual(['root', 'default']);
  });
});
