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
  ];
}
