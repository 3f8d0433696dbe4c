import type { Migration } from '@campaigns/events';

/**
 * The users and their access tokens, the organizations and their members, in the service's schema (a test's own schema has its own).
 * A token is kept only as its SHA-256; a revoked one keeps its row (revoked_at) for the record.
 * Once committed a migration is never edited: add another.
 */
export function identityMigrations(schema: string): readonly Migration[] {
  const s = `"${schema}"`;
  return [
    {
      version: 1,
      name: 'users and access tokens',
      sql: `
        CREATE TABLE ${s}.users (
          name text PRIMARY KEY,
          site_admin boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX users_lower_name ON ${s}.users (lower(name));
        CREATE TABLE ${s}.access_tokens (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          user_name text NOT NULL REFERENCES ${s}.users (name),
          token_hash text NOT NULL UNIQUE,
          created_at timestamptz NOT NULL DEFAULT now(),
          last_used_at timestamptz,
          revoked_at timestamptz
        );
        CREATE INDEX access_tokens_user ON ${s}.access_tokens (user_name);
      `,
    },
    {
      version: 2,
      name: 'organizations and their members',
      sql: `
        CREATE TABLE ${s}.organizations (
          name text PRIMARY KEY,
          visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public')),
          created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX organizations_lower_name ON ${s}.organizations (lower(name));
        CREATE TABLE ${s}.organization_members (
          org text NOT NULL REFERENCES ${s}.organizations (name),
          user_name text NOT NULL REFERENCES ${s}.users (name),
          added_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (org, user_name)
        );
      `,
    },
    {
      version: 3,
      name: 'one name per namespace, across users and organizations',
      // Users and organizations share one space of namespace names (in any letter case), which
      // two tables' unique indexes cannot hold: a user and an organization created at the same
      // moment under one name would both pass a check of the other table. Each claims its name
      // here first, in the statement that creates it.
      sql: `
        CREATE TABLE ${s}.namespace_names (
          lower_name text PRIMARY KEY,
          kind text NOT NULL CHECK (kind IN ('site', 'user', 'organization'))
        );
        INSERT INTO ${s}.namespace_names (lower_name, kind) VALUES ('default', 'site');
        INSERT INTO ${s}.namespace_names (lower_name, kind)
          SELECT lower(name), 'user' FROM ${s}.users
          ON CONFLICT (lower_name) DO NOTHING;
        INSERT INTO ${s}.namespace_names (lower_name, kind)
          SELECT lower(name), 'organization' FROM ${s}.organizations
          ON CONFLICT (lower_name) DO NOTHING;
      `,
    },
  ];
}
