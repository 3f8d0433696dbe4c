import type pg from 'pg';
import { DEFAULT_NAMESPACE } from '@campaigns/events';
import { accessTokenHash, newAccessToken } from './access-tokens.js';
import type { NamespaceInfo } from './permissions.js';

/** Who sent a request, as its verified access token says. */
export interface Caller {
  readonly user: string;
  readonly siteAdmin: boolean;
  /** The token's id (never the token): what `campaign admin tokens revoke ID` takes. */
  readonly tokenId: string;
}

/** One user as `campaign admin users list` shows them. */
export interface UserRecord {
  readonly name: string;
  readonly siteAdmin: boolean;
  readonly createdAt: string;
  /** Tokens issued and not revoked. */
  readonly activeTokens: number;
}

/** A token just issued: the only time the token itself exists outside its holder's hands. */
export interface IssuedToken {
  readonly id: string;
  readonly user: string;
  readonly token: string;
}

/** A refusal an administrator can act on (unknown user, name taken); its message says which. */
export class IdentityError extends Error {}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.ClientBase, 'query'>;

/**
 * The users and access tokens in a schema (spec-service's own, or a test's), over plain pg so
 * that the operator's `campaign admin bootstrap` works on the database without the service.
 * Every lookup reads the database: a revocation is effective at the next request.
 */
export class IdentityStore {
  private readonly users: string;
  private readonly tokens: string;
  private readonly orgs: string;
  private readonly members: string;
  private readonly names: string;

  constructor(
    private readonly db: Queryable,
    schema: string,
  ) {
    this.users = `"${schema}".users`;
    this.tokens = `"${schema}".access_tokens`;
    this.orgs = `"${schema}".organizations`;
    this.members = `"${schema}".organization_members`;
    this.names = `"${schema}".namespace_names`;
  }

  /**
   * What a namespace is, for the caller: `default`, a user's, an organization's (and whether the
   * caller is a member), or null when there is none of that name. Names match in any letter case.
   */
  async namespace(name: string, caller: string): Promise<NamespaceInfo | null> {
    if (name.toLowerCase() === DEFAULT_NAMESPACE) return { kind: 'default' };
    const user = await this.findUser(name);
    if (user) return { kind: 'user', name: user };
    const { rows } = await this.db.query<{
      name: string;
      visibility: 'private' | 'public';
      member: boolean;
    }>(
      `SELECT o.name, o.visibility,
              EXISTS (SELECT 1 FROM ${this.members} m WHERE m.org = o.name AND m.user_name = $2) AS member
         FROM ${this.orgs} o WHERE lower(o.name) = lower($1)`,
      [name, caller],
    );
    const org = rows[0];
    return org
      ? { kind: 'org', name: org.name, visibility: org.visibility, callerIsMember: org.member }
      : null;
  }

  /** The organizations a user is a member of, by name. */
  async organizationsOf(user: string): Promise<string[]> {
    const { rows } = await this.db.query<{ org: string }>(
      `SELECT org FROM ${this.members} WHERE user_name = $1 ORDER BY org`,
      [user],
    );
    return rows.map((r) => r.org);
  }

  /** The organizations whose campaigns a user may read: those they are a member of, and the public ones. */
  async readableOrganizations(user: string): Promise<string[]> {
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT o.name FROM ${this.orgs} o
        WHERE o.visibility = 'public'
           OR EXISTS (SELECT 1 FROM ${this.members} m WHERE m.org = o.name AND m.user_name = $1)
        ORDER BY o.name`,
      [user],
    );
    return rows.map((r) => r.name);
  }

  /** Adds an organization; a name taken by a user or an organization is an IdentityError. */
  async createOrganization(name: string, visibility: 'private' | 'public'): Promise<void> {
    if (name.toLowerCase() === DEFAULT_NAMESPACE || (await this.findUser(name)))
      throw new IdentityError(`the namespace "${name}" exists already`);
    const { rowCount } = await this.db.query(
      `WITH claimed AS (${this.claim('organization')})
       INSERT INTO ${this.orgs} (name, visibility) SELECT $1, $2 FROM claimed`,
      [name, visibility],
    );
    if (!rowCount) throw new IdentityError(`the namespace "${name}" exists already`);
  }

  /** Makes a user a member of an organization; false when they were one already. */
  async addMember(
    org: string,
    user: string,
  ): Promise<{ org: string; user: string; added: boolean }> {
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT name FROM ${this.orgs} WHERE lower(name) = lower($1)`,
      [org],
    );
    const foundOrg = rows[0]?.name;
    if (!foundOrg) throw new IdentityError(`there is no organization "${org}"`);
    const foundUser = await this.findUser(user);
    if (!foundUser) throw new IdentityError(`there is no user "${user}"`);
    const { rowCount } = await this.db.query(
      `INSERT INTO ${this.members} (org, user_name) VALUES ($1, $2) ON CONFLICT (org, user_name) DO NOTHING`,
      [foundOrg, foundUser],
    );
    return { org: foundOrg, user: foundUser, added: (rowCount ?? 0) > 0 };
  }

  /**
   * The caller a token belongs to, or null when it is unknown or revoked. Notes when it was
   * last used (at most once a minute, so polling does not write on every request).
   */
  async authenticate(token: string): Promise<Caller | null> {
    const { rows } = await this.db.query<{ id: string; name: string; site_admin: boolean }>(
      `WITH found AS (
         SELECT t.id, u.name, u.site_admin, t.last_used_at
           FROM ${this.tokens} t JOIN ${this.users} u ON u.name = t.user_name
          WHERE t.token_hash = $1 AND t.revoked_at IS NULL
       ), touched AS (
         UPDATE ${this.tokens} SET last_used_at = now()
          WHERE id IN (SELECT id FROM found
                        WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
       )
       SELECT id::text, name, site_admin FROM found`,
      [accessTokenHash(token)],
    );
    const row = rows[0];
    return row ? { user: row.name, siteAdmin: row.site_admin, tokenId: row.id } : null;
  }

  /** Adds a user; a name taken (in any letter case) is an IdentityError. */
  async createUser(name: string, siteAdmin: boolean): Promise<UserRecord> {
    if (await this.findUser(name)) throw new IdentityError(`user "${name}" exists already`);
    if (name.toLowerCase() === DEFAULT_NAMESPACE || (await this.namespace(name, name)))
      throw new IdentityError(
        `the namespace "${name}" exists already (an organization's or the site's)`,
      );
    const createdAt = await this.insertUser(name, siteAdmin);
    if (createdAt === null)
      throw new IdentityError(
        `the namespace "${name}" exists already (a user's, an organization's or the site's)`,
      );
    return { name, siteAdmin, createdAt: createdAt.toISOString(), activeTokens: 0 };
  }

  /** Inserts a user once their namespace name is claimed; null when it was taken meanwhile. */
  private async insertUser(name: string, siteAdmin: boolean): Promise<Date | null> {
    const { rows } = await this.db.query<{ created_at: Date }>(
      `WITH claimed AS (${this.claim('user')})
       INSERT INTO ${this.users} (name, site_admin) SELECT $1, $2 FROM claimed RETURNING created_at`,
      [name, siteAdmin],
    );
    return rows[0]?.created_at ?? null;
  }

  /**
   * A CTE's statement claiming the namespace name $1 (in any letter case) for a user or an
   * organization: one row when claimed, none when anyone has it. The insert that follows it in
   * the same statement happens only then, so two creations of one name never both succeed.
   */
  private claim(kind: 'user' | 'organization'): string {
    return `INSERT INTO ${this.names} (lower_name, kind) VALUES (lower($1), '${kind}')
            ON CONFLICT (lower_name) DO NOTHING RETURNING lower_name`;
  }

  /**
   * The user exists afterwards, a site admin or not as asked (the operator's bootstrap, the
   * demo users of `npm start`, tests).
   */
  async ensureUser(name: string, siteAdmin: boolean): Promise<void> {
    // The same rules as createUser, but an existing user of exactly this name is kept.
    const existing = await this.findUser(name);
    if (existing !== null && existing !== name)
      throw new IdentityError(
        `user "${existing}" exists already (names are the same in any letter case)`,
      );
    if (
      existing === null &&
      (name.toLowerCase() === DEFAULT_NAMESPACE || (await this.namespace(name, name)))
    )
      throw new IdentityError(
        `the namespace "${name}" exists already (an organization's or the site's)`,
      );
    if (existing === name) {
      await this.db.query(`UPDATE ${this.users} SET site_admin = $2 WHERE name = $1`, [
        name,
        siteAdmin,
      ]);
      return;
    }
    if ((await this.insertUser(name, siteAdmin)) === null)
      throw new IdentityError(
        `the namespace "${name}" exists already (a user's, an organization's or the site's)`,
      );
  }

  async listUsers(): Promise<UserRecord[]> {
    const { rows } = await this.db.query<{
      name: string;
      site_admin: boolean;
      created_at: Date;
      active: number;
    }>(
      `SELECT u.name, u.site_admin, u.created_at,
              (SELECT count(*)::int FROM ${this.tokens} t
                WHERE t.user_name = u.name AND t.revoked_at IS NULL) AS active
         FROM ${this.users} u ORDER BY u.name`,
    );
    return rows.map((r) => ({
      name: r.name,
      siteAdmin: r.site_admin,
      createdAt: r.created_at.toISOString(),
      activeTokens: r.active,
    }));
  }

  /** A new token for a user (who must exist); only its hash is stored. */
  async issueToken(user: string): Promise<IssuedToken> {
    const found = await this.findUser(user);
    if (!found) throw new IdentityError(`there is no user "${user}"`);
    const token = newAccessToken();
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO ${this.tokens} (user_name, token_hash) VALUES ($1, $2) RETURNING id::text`,
      [found, accessTokenHash(token)],
    );
    return { id: rows[0]!.id, user: found, token };
  }

  /** Revokes one token by id; false when there is no such token or it was revoked already. */
  async revokeToken(id: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE ${this.tokens} SET revoked_at = now() WHERE id = $1::bigint AND revoked_at IS NULL`,
      [id],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Revokes every active token of a user; how many. An unknown user is an IdentityError. */
  async revokeUserTokens(user: string): Promise<number> {
    const found = await this.findUser(user);
    if (!found) throw new IdentityError(`there is no user "${user}"`);
    const { rowCount } = await this.db.query(
      `UPDATE ${this.tokens} SET revoked_at = now() WHERE user_name = $1 AND revoked_at IS NULL`,
      [found],
    );
    return rowCount ?? 0;
  }

  /** The stored spelling of a user name, matched without regard to letter case. */
  private async findUser(name: string): Promise<string | null> {
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT name FROM ${this.users} WHERE lower(name) = lower($1)`,
      [name],
    );
    return rows[0]?.name ?? null;
  }
}
