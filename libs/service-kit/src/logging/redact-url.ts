const MASK = '***';
const SECRET_PARAMS = ['password', 'token', 'pass'];

/**
 * A connection URL safe to log: passwords (and NATS tokens, which sit where a user name would)
 * are masked, in the authority and in query parameters. Handles comma-separated NATS lists.
 */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((one) => redactOne(one.trim()))
    .join(',');
}

function redactOne(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw.includes('@') ? `${raw.slice(0, raw.indexOf(':') + 1)}${MASK}` : raw;
  }
  if (url.password) url.password = MASK;
  else if (url.username && /^(nats|tls|ws|wss):$/.test(url.protocol)) url.username = MASK;
  for (const name of SECRET_PARAMS) {
    if (url.searchParams.has(name)) url.searchParams.set(name, MASK);
  }
  return url.toString();
}
