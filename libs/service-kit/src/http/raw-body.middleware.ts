import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter } from 'prom-client';

/** A request whose body was read unparsed by `rawBodyMiddleware`. */
export type RawBodyRequest = IncomingMessage & { rawBody?: Buffer };

export interface RawBodyOptions {
  /** Largest body, in bytes: a larger one is answered 413 without being kept. */
  limitBytes: number;
  /** The whole body must arrive within this many milliseconds of the handler asking: else 408. */
  timeoutMs: number;
  rejected: Counter<'reason'>;
}

/**
 * Reads each request body as its exact bytes into `req.rawBody` and parses nothing, so a handler
 * can check a signature over what was sent before it trusts (or spends CPU on) the content.
 * A declared or actual size over the limit is answered 413 and the rest is drained unread; a body
 * that does not arrive in time is answered 408 and the connection closed. Each refusal is counted.
 */
export function rawBodyMiddleware(options: RawBodyOptions) {
  const { limitBytes, timeoutMs, rejected } = options;
  return (req: RawBodyRequest, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (!hasBody(req)) {
      next();
      return;
    }
    const refuse = (status: number, reason: string, message: string, close: boolean): void => {
      rejected.inc({ reason });
      if (!res.headersSent && !res.destroyed) {
        if (close) res.setHeader('Connection', 'close');
        res.statusCode = status;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ statusCode: status, message }));
      }
    };
    const tooLarge = `request body larger than ${limitBytes} bytes`;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limitBytes) {
      refuse(413, 'body_too_large', tooLarge, false);
      req.resume();
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      return true;
    };
    const timer = setTimeout(() => {
      if (!settle()) return;
      refuse(408, 'body_timeout', `request body not received within ${timeoutMs} ms`, true);
      // The client is still holding the connection open: it goes, whatever it sends next.
      res.once('finish', () => req.socket.destroy());
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        if (!settle()) return;
        chunks.length = 0;
        refuse(413, 'body_too_large', tooLarge, false);
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!settle()) return;
      req.rawBody = Buffer.concat(chunks, size);
      next();
    });
    req.once('error', () => {
      if (settle()) rejected.inc({ reason: 'aborted' });
    });
    req.once('close', () => {
      // Closed by the client before the body ended: nobody is left to answer.
      if (!req.complete && settle()) rejected.inc({ reason: 'aborted' });
    });
  };
}

/** Whether the request announces a body (RFC 9112: a Content-Length over 0 or a Transfer-Encoding). */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}
