// A webhook receiver on 127.0.0.1 for tests: records every request, verifies signatures with
// `@octokit/webhooks` (as Campaigns' webhook-gateway will), and answers as a test tells it to.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhooks } from '@octokit/webhooks';

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed payload (JSON, or the `payload` field of a form body). */
  payload: Record<string, unknown>;
  event: string;
  guid: string;
  /** Whether `@octokit/webhooks` accepted `X-Hub-Signature-256` for the receiver's secret. */
  signatureValid: boolean;
  receivedAt: number;
}

/** How the receiver answers the nth request (0-based); default 200 at once. */
export type Responder = (
  n: number,
  delivery: ReceivedDelivery,
) => { status: number; delayMs?: number; body?: string };

export interface WebhookReceiver {
  url: string;
  deliveries: ReceivedDelivery[];
  respond(responder: Responder): void;
  /** Resolves when `count` deliveries have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedDelivery[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const webhooks = new Webhooks({ secret });
  const deliveries: ReceivedDelivery[] = [];
  let responder: Responder = () => ({ status: 200 });
  const waiters: { count: number; resolve: () => void }[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const json = body.startsWith('payload=')
          ? (new URLSearchParams(body).get('payload') ?? '')
          : body;
        const signature = req.headers['x-hub-signature-256'];
        const delivery: ReceivedDelivery = {
          headers: req.headers,
          body,
          payload: JSON.parse(json) as Record<string, unknown>,
          event: String(req.headers['x-github-event']),
          guid: String(req.headers['x-github-delivery']),
          signatureValid: typeof signature === 'string' && (await webhooks.verify(body, signature)),
          receivedAt: Date.now(),
        };
        const n = deliveries.length;
        deliveries.push(delivery);
        for (const waiter of waiters.filter((w) => deliveries.length >= w.count)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
        const answer = responder(n, delivery);
        const reply = () => {
          res.writeHead(answer.status, { 'content-type': 'text/plain' });
          res.end(answer.body ?? 'thanks');
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      })();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    deliveries,
    respond(next) {
      responder = next;
    },
    waitFor(count, timeoutMs = 10_000) {
      if (deliveries.length >= count) return Promise.resolve(deliveries.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} webhook deliveries, got ${deliveries.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(deliveries.slice());
          },
        });
      });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
