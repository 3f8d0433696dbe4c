import { describe, expect, it } from '@jest/globals';
import { runCaptured } from '../test-support/run-captured.js';

describe('campaign admin: a wrong command line is refused before anything is sent', () => {
  it.each([
    [
      [],
      'admin needs users create, users list, tokens create, tokens revoke, orgs create, orgs add-member or bootstrap',
    ],
    [
      ['users'],
      'admin needs users create, users list, tokens create, tokens revoke, orgs create, orgs add-member or bootstrap',
    ],
    [
      ['users', 'delete', 'alice'],
      'admin needs users create, users list, tokens create, tokens revoke, orgs create, orgs add-member or bootstrap',
    ],
    [['users', 'create'], 'admin users create needs a name'],
    [['users', 'list', 'alice'], 'admin users list takes no argument'],
    [['tokens', 'revoke'], 'admin tokens revoke needs a token id or user'],
    [['tokens', 'create', 'alice', 'bob'], 'unexpected argument "bob" for admin'],
    [['tokens', 'create', 'alice', '--site-admin'], '--site-admin goes with admin users create'],
    [['orgs', 'create'], 'admin orgs create needs a name'],
    [['orgs', 'add-member', 'acme'], 'admin orgs add-member needs the organization and the user'],
    [['orgs', 'add-member', 'acme', 'alice', 'bob'], 'unexpected argument "bob" for admin'],
    [['users', 'create', 'alice', '--public'], '--public goes with admin orgs create'],
    [['bootstrap'], 'admin bootstrap needs one user name: admin bootstrap NAME'],
    [
      ['bootstrap', 'root'],
      'admin bootstrap needs the database: --database-url URL (or DATABASE_URL)',
    ],
    [['bootstrap', 'no spaces', '--database-url', 'postgres://x/y'], 'is not a user name'],
    [['bootstrap', 'root', '--database-url', 'postgres://x/y', '--schema', 'A;B'], '--schema'],
  ])('admin %j: exit 2, one line saying what is wrong', async (words, message) => {
    const result = await runCaptured('admin', ...words);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
