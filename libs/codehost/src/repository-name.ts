/** A host-qualified repository name, `HOST/OWNER/NAME`, split into its parts. */
export interface RepositoryName {
  /** The code host's `host[:port]`, as in its web URL. */
  host: string;
  owner: string;
  name: string;
}

/** Parses `HOST/OWNER/NAME`; throws with the name in the message when it is not one. */
export function parseRepositoryName(qualified: string): RepositoryName {
  const parts = qualified.split('/');
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) {
    throw new Error(
      `"${qualified}" is not a host-qualified repository name; expected HOST/OWNER/NAME, e.g. github.com/acme/api`,
    );
  }
  const [host, owner, name] = parts as [string, string, string];
  return { host: host.toLowerCase(), owner, name };
}

export function formatRepositoryName(repo: RepositoryName): string {
  return `${repo.host}/${repo.owner}/${repo.name}`;
}

/** The `host[:port]` part of a code host URL, as used in repository names. */
export function hostOfUrl(url: string): string {
  return new URL(url).host.toLowerCase();
}
