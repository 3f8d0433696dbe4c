/**
 * Campaigns belong to a namespace: a user (every user has one of the same name), an
 * organization, or `default`, the site's own, which site admins own. A campaign is identified
 * by (namespace, name); its key — the `campaign` of every event and its stream
 * `campaign-<key>` — is `<namespace>/<name>`, except in `default`, where it is the bare name.
 *
 * That exception is the upcaster of identity: every event recorded before namespaces existed
 * names its campaign by the bare name, so it reads as a campaign of `default` without rewriting
 * the (append-only) store, and new campaigns of `default` continue those streams.
 */
export const DEFAULT_NAMESPACE = 'default';

/** A namespace name: a user's or an organization's; path-safe, no `/`. */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A campaign's place: which namespace, and its name there. */
export interface CampaignRef {
  readonly namespace: string;
  readonly name: string;
}

/** The key a campaign is recorded under (see the module's comment). */
export function campaignKey({ namespace, name }: CampaignRef): string {
  return namespace === DEFAULT_NAMESPACE ? name : `${namespace}/${name}`;
}

/**
 * The namespace and name of a recorded key. A key without `/` was recorded in `default` (or
 * before namespaces): campaign names cannot hold a `/`, namespace names neither.
 */
export function campaignRefOf(key: string): CampaignRef {
  const slash = key.indexOf('/');
  if (slash < 0) return { namespace: DEFAULT_NAMESPACE, name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** SQL LIKE pattern of the keys of one namespace's campaigns (for `default`: no `/` at all). */
export function namespaceKeyPattern(namespace: string): { like: string; negate: boolean } {
  if (namespace === DEFAULT_NAMESPACE) return { like: '%/%', negate: true };
  return { like: `${namespace.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`, negate: false };
}
