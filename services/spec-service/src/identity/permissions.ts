import { DEFAULT_NAMESPACE } from '@campaigns/events';
import type { Caller } from './identity-store.js';

/** What a namespace is, as far as deciding who may act in it goes. */
export type NamespaceInfo =
  /** The site's own (and every campaign recorded before namespaces): site admins only. */
  | { readonly kind: 'default' }
  /** A user's own: private to that user. */
  | { readonly kind: 'user'; readonly name: string }
  | {
      readonly kind: 'org';
      readonly name: string;
      readonly visibility: 'private' | 'public';
      /** Whether the caller is one of its members. */
      readonly callerIsMember: boolean;
    };

/** Reading (status, list, changesets without acting) or changing (apply, preview, close, bulk). */
export type Access = 'read' | 'write';

/**
 * Whether the caller may read or change the campaigns of a namespace; null when allowed, else
 * why not (for the refusal and its audit event). Site admins may do everything; members (the
 * user for their own namespace) may read and change; others may read a public organization's.
 */
export function accessProblem(
  caller: Caller,
  namespace: NamespaceInfo,
  access: Access,
): string | null {
  if (caller.siteAdmin) return null;
  switch (namespace.kind) {
    case 'default':
      return 'the default namespace belongs to the site admins';
    case 'user':
      return namespace.name === caller.user
        ? null
        : `namespace ${namespace.name} is another user's`;
    case 'org':
      if (namespace.callerIsMember) return null;
      if (access === 'read' && namespace.visibility === 'public') return null;
      return access === 'read'
        ? `organization ${namespace.name} is private and ${caller.user} is not a member`
        : `${caller.user} is not a member of organization ${namespace.name}`;
  }
}

/**
 * Where a request that names no namespace acts: a user's own namespace; for a site admin, the
 * site's (`default`, where every campaign recorded before namespaces is), so that an operator's
 * tools and older clients that name none (the dashboard, scripts) keep seeing those campaigns.
 */
export function defaultNamespaceOf(caller: Caller): string {
  return caller.siteAdmin ? DEFAULT_NAMESPACE : caller.user;
}

/** The namespaces a caller may act in: their own, their organizations', `default` for admins. */
export function namespacesOf(caller: Caller, organizations: readonly string[]): string[] {
  return [caller.user, ...organizations, ...(caller.siteAdmin ? [DEFAULT_NAMESPACE] : [])];
}
