import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Counter } from 'prom-client';

export interface HttpServerTimeouts {
  /** A request's headers must arrive within this many milliseconds of its first byte. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this many milliseconds. */
  requestTimeoutMs: number;
}

/** Default header and body timeouts of every service (Node's own allow 60 s and 300 s). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_BODY_TIMEOUT_MS = 20_000;

/** How often Node looks for connections past their timeouts (its default is every 30 s). */
const CHECK_INTERVAL_MS = 250;

/**
 * Gives the server its header and request timeouts, and answers what Node refuses before any
 * handler runs (a timeout: 408; headers too large: 431; a malformed request: 400) the way Node
 * would, counting each refusal by reason. Call before the server listens.
 */
export function guardHttpServer(
  server: Server,
  timeouts: HttpServerTimeouts,
  rejected: Counter<'reason'>,
): void {
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = Math.max(timeouts.requestTimeoutMs, timeouts.headersTimeoutMs);
  // Read when the server starts listening; without it a timeout is noticed up to 30 s late.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.min(CHECK_INTERVAL_MS, timeouts.headersTimeoutMs);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const refusal = refusalOf(error, socket);
    if (refusal !== undefined) {
      rejected.inc({ reason: refusal.reason });
      const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
        ?.headersSent;
      if (socket.writable && started !== true) {
        socket.write(
          `HTTP/1.1 ${refusal.status} ${refusal.text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
      }
    }
    socket.destroy();
  });
}

function refusalOf(
  error: NodeJS.ErrnoException,
  socket: Duplex,
): { status: number; text: string; reason: string } | undefined {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT': {
      // Headers parsed: the parser has the request it is reading the body of.
      const parser = (socket as Duplex & { parser?: { incoming?: unknown } }).parser;
      const reason = parser?.incoming ? 'body_timeout' : 'header_timeout';
      return { status: 408, text: 'Request Timeout', reason };
    }
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, text: 'Request Header Fields Too Large', reason: 'headers_too_large' };
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined; // the client went away: nobody to answer, nothing refused
    default:
      return { status: 400, text: 'Bad Request', reason: 'malformed_request' };
  }
}
