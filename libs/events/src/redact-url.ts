const MASK = '***';
const SECRET_PARAMS = ['password', 'token', 'pass'];

/**
 * A connection URL safe to log or print: passwords (and NATS tokens, which sit where a user name
 * would) are masked, in the authority and in query parameters; a URL that does not parse and may
 * hold a credential is cut after its scheme. Handles comma-separated NATS lists. The one URL
 * redactor of the services, their configuration errors and the CLI.
 */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((one) => redactOne(one.trim()))
    .join(',');
}

/** Anything that may carry a credential when the URL cannot be parsed to find it. */
const MAY_HOLD_SECRET = new RegExp(`@|[?&;](${SECRET_PARAMS.join('|')})=`, 'i');

function redactOne(raw: string): string {
  const cut = () => `${/^[a-z][a-z0-9+.-]*:(\/\/)?/i.exec(raw)?.[0] ?? ''}…`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Unparsable: where a credential would be cannot be told, so nothing after the scheme is
    // shown when one may be there.
    return MAY_HOLD_SECRET.test(raw) ? cut() : raw;
  }
  // No authority (`user:secret@host` without `//` parses as a path): as unparsable.
  if (url.host === '') return MAY_HOLD_SECRET.test(raw) ? cut() : raw;
  let masked = false;
  if (url.password) {
    url.password = MASK;
    masked = true;
  } else if (url.username && /^(nats|tls|ws|wss):$/.test(url.protocol)) {
    url.username = MASK;
    masked = true;
  }
  for (const name of SECRET_PARAMS) {
    if (url.searchParams.has(name)) {
      url.searchParams.set(name, MASK);
      masked = true;
    }
  }
  // Nothing to hide: as given, so the operator recognises what they typed.
  return masked ? url.toString() : raw;
}
