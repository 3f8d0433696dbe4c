/** Where and as whom to connect to NATS: the `servers`, `user` and `pass` of nats.js's connect. */
export interface NatsConnectTarget {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
}

/**
 * NATS_URL (one URL or several, comma-separated) as nats.js connects to it. A user and password
 * in a URL (`nats://cli:secret@host:4222`) become `user`/`pass` (nats.js reads none from URLs);
 * `user`/`pass` given (NATS_USER, NATS_PASSWORD) win over those. Log the URL with redactUrl.
 */
export function natsConnectTarget(
  url: string,
  credentials: { user?: string | undefined; pass?: string | undefined } = {},
): NatsConnectTarget {
  let user: string | undefined;
  let pass: string | undefined;
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((server) => {
      let parsed: URL;
      try {
        parsed = new URL(server);
      } catch {
        return server;
      }
      if (parsed.username === '' && parsed.password === '') return server;
      user ??= decodeURIComponent(parsed.username);
      pass ??= decodeURIComponent(parsed.password);
      return `${parsed.protocol}//${parsed.host}`;
    });
  user = credentials.user ?? user;
  pass = credentials.pass ?? pass;
  return {
    servers,
    ...(user === undefined || user === '' ? {} : { user }),
    ...(pass === undefined || pass === '' ? {} : { pass }),
  };
}
