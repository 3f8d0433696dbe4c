import { AUTHORIZATION_HEADER } from '@campaigns/contracts';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type pg from 'pg';
import { IdentityStore } from '../identity/identity-store.js';
import { SPEC_SERVICE_SCHEMA } from '../spec-service.database.js';

/**
 * A new access token for `user` (created if needed; a site admin if asked) in a running
 * spec-service's schema, as `campaign admin bootstrap` issues one.
 */
export async function issueTestToken(
  pool: pg.Pool,
  user: string,
  options: { siteAdmin?: boolean; schema?: string } = {},
): Promise<string> {
  const store = new IdentityStore(pool, options.schema ?? SPEC_SERVICE_SCHEMA);
  await store.ensureUser(user, options.siteAdmin ?? false);
  return (await store.issueToken(user)).token;
}

/** The NATS headers of a request sent with `token`, as the CLI sends them. */
export function bearerHeaders(token: string): MsgHdrs {
  const h = headers();
  h.set(AUTHORIZATION_HEADER, `Bearer ${token}`);
  return h;
}
