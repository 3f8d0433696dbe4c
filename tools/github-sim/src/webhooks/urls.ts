/** Where the sim is reached: the bases every URL in a webhook payload is built from. */
export interface SimUrls {
  /** The web root, e.g. `http://127.0.0.1:3001` (html_url, clone_url). */
  readonly web: string;
  /** The REST root, e.g. `http://127.0.0.1:3001/api/v3` (url, *_url). */
  readonly api: string;
}

/** SimUrls for a server listening at `origin` (GitHub Enterprise layout: REST under /api/v3). */
export function simUrlsFor(origin: string): SimUrls {
  const web = origin.replace(/\/+$/, '');
  return { web, api: `${web}/api/v3` };
}

/** The host name (with port) of the web root, as used in git and ssh URLs. */
export function hostOf(urls: SimUrls): string {
  return new URL(urls.web).host;
}
