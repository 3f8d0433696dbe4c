import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  metricValue,
  pullRequestPayload,
  startGatewayHarness,
  type GatewayHarness,
} from './test-support/gateway-harness.js';

const REJECTED = 'http_requests_rejected_total';

/** Opens a connection, writes `text`, and resolves with whatever the server sent before closing. */
function rawExchange(
  url: string,
  text: string,
): Promise<{ socket: Socket; reply: Promise<string> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(text);
      const reply = new Promise<string>((done) => {
        let received = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
        socket.on('close', () => done(received));
      });
      resolve({ socket, reply });
    });
    socket.on('error', reject);
  });
}

describe('webhook-gateway refuses what it cannot or must not record, and counts each refusal', () => {
  let gw: GatewayHarness;
  const head = 'a'.repeat(40);

  beforeAll(async () => {
    gw = await startGatewayHarness({
      WEBHOOK_HEADERS_TIMEOUT_MS: '1000',
      WEBHOOK_BODY_TIMEOUT_MS: '1000',
    });
    await gw.track('hardened', 7, head);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('Given a body that is not JSON, when it is unsigned or forged, then it is refused as unverified (401) before anything parses it; signed, it is malformed (400)', async () => {
    const before = await gw.counts();
    const notJson = '{"not json';
    expect((await gw.deliver('pull_request', notJson, { 'x-hub-signature-256': '' })).status).toBe(
      401,
    );
    const forged = await gw.deliver('pull_request', notJson, {
      'x-hub-signature-256': gw.sign(notJson, 'not-the-secret'),
    });
    expect(forged.status).toBe(401);
    const signed = await gw.deliver('pull_request', notJson);
    expect(signed).toEqual({
      status: 400,
      body: { error: 'the webhook body is not a JSON object' },
    });
    expect((await gw.deliver('pull_request', '[1, 2]')).status).toBe(400);
    expect(await gw.counts()).toEqual(before);
  });

  it('Given a signature over the exact bytes, when one byte is swapped for another that decodes alike, then the signature no longer matches', async () => {
    // Both 0xff and 0xfe decode to U+FFFD: an HMAC over decoded text would take the second.
    const signed = Buffer.from('{"title":"\xff"}', 'latin1');
    const swapped = Buffer.from('{"title":"\xfe"}', 'latin1');
    expect(signed.toString('utf8')).toBe(swapped.toString('utf8'));
    // Signed over its bytes, it passes verification and is refused only as not UTF-8 JSON.
    expect((await gw.deliver('pull_request', signed)).status).toBe(400);
    const forged = await gw.deliver('pull_request', swapped, {
      'x-hub-signature-256': gw.sign(signed),
    });
    expect(forged.status).toBe(401);
  });

  it('Given deliveries that can never be recorded, when they arrive signed, then each gets a 4xx saying why and nothing is recorded', async () => {
    const before = await gw.counts();
    const longId = await gw.deliver(
      'pull_request',
      pullRequestPayload('hardened', { number: 7, headSha: head, title: 'Renamed' }),
      {
        'x-github-delivery': 'd'.repeat(3000),
      },
    );
    expect(longId).toEqual({
      status: 400,
      body: { error: 'X-GitHub-Delivery is longer than 200 characters' },
    });
    const huge = await gw.deliver(
      'pull_request',
      pullRequestPayload('hardened', { number: 2 ** 31, headSha: head }),
    );
    expect(huge).toEqual({
      status: 422,
      body: {
        error: `the webhook cannot be recorded: pull request number ${2 ** 31} is larger than ${2 ** 31 - 1}`,
      },
    });
    for (const title of ['nul \u0000 here', 'half \ud800 a pair']) {
      const answer = await gw.deliver(
        'pull_request',
        pullRequestPayload('hardened', { number: 7, headSha: head, title }),
      );
      expect(answer).toEqual({
        status: 422,
        body: {
          error:
            'the webhook cannot be recorded: the title holds a NUL character or a lone UTF-16 surrogate, which cannot be stored',
        },
      });
    }
    expect(await gw.counts()).toEqual(before);
    // The same pull request with a title PostgreSQL can store is recorded.
    const fine = await gw.deliver(
      'pull_request',
      pullRequestPayload('hardened', { number: 7, headSha: head, title: 'half 😀 a pair' }),
    );
    expect(fine).toEqual({ status: 200, body: { recorded: 1 } });
  });

  it('Given a client that sends its headers or its body too slowly, when the timeout passes, then it is answered 408 and its connection closed', async () => {
    const { hostname, port } = new URL(gw.hookUrl);
    const headers = await rawExchange(
      gw.hookUrl,
      `POST /webhooks/github HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`,
    );
    expect(await headers.reply).toMatch(/^HTTP\/1\.1 408 /);
    const body = await rawExchange(
      gw.hookUrl,
      `POST /webhooks/github HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: 100\r\n\r\n{"a":`,
    );
    expect(await body.reply).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('counts every refusal by reason in /metrics, and every answered request', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });
    expect((await gw.deliver('pull_request', big)).status).toBe(413);
    expect(
      (
        await gw.deliver('pull_request', '{}', {
          'content-type': 'application/x-www-form-urlencoded',
        })
      ).status,
    ).toBe(415);
    const text = await gw.metrics();
    const counted = (reason: string) => metricValue(text, REJECTED, { reason });
    expect(counted('missing_signature')).toBeGreaterThanOrEqual(1);
    expect(counted('bad_signature')).toBeGreaterThanOrEqual(2);
    expect(counted('malformed_delivery')).toBeGreaterThanOrEqual(3);
    expect(counted('bad_delivery_headers')).toBe(1);
    expect(counted('unrecordable')).toBe(3);
    expect(counted('header_timeout')).toBe(1);
    expect(counted('body_timeout')).toBe(1);
    expect(counted('body_too_large')).toBe(1);
    expect(counted('unsupported_media_type')).toBe(1);
    // The request metrics count the refused bodies too, not only what reached a route.
    expect(metricValue(text, 'http_requests_total', { status: '413' })).toBe(1);
    expect(metricValue(text, 'http_requests_total', { status: '415' })).toBe(1);
  });
});
