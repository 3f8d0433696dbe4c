// A one-request smart-HTTP push of one ref: protocol v0 in stateless-rpc form
// (gitprotocol-http(5), gitprotocol-pack(5)). Git's own client first GETs the ref advertisement;
// a client that knows what the branch is at can POST the update and the pack directly.
import { FLUSH_PKT, PktLineReader, pktLine } from './pkt-line.js';

/** The id git uses for "no object": the old value of a branch that does not exist yet. */
export const ZERO_OBJECT_ID = '0'.repeat(40);

/** Where and as whom to push. */
export interface ReceivePackTarget {
  /** The repository's clone URL, e.g. https://github.com/acme/api.git (no credentials). */
  readonly url: string;
  /** Sent only as `Authorization: Basic x-access-token:TOKEN`, never in the URL. */
  readonly token: string;
  readonly timeoutMs?: number;
}

/** One ref update: `oldSha` is what the branch is believed to be at (ZERO_OBJECT_ID: absent). */
export interface RefUpdate {
  readonly ref: string;
  readonly oldSha: string;
  readonly newSha: string;
}

/** What receive-pack reported for the update. */
export type ReceivePackReport =
  | { readonly status: 'ok' }
  /** The pack was not stored (e.g. an object it refers to is missing). */
  | { readonly status: 'unpack-failed'; readonly reason: string }
  /** The pack was stored but the ref not updated (e.g. it is not at `oldSha`). */
  | { readonly status: 'ref-rejected'; readonly reason: string };

/** The server answered other than with a report: the HTTP status (0: no answer) and its text. */
export class ReceivePackHttpError extends Error {
  override readonly name = 'ReceivePackHttpError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const AGENT = 'campaigns/1';

/** The request body: the update with its capabilities, a flush, then the pack. */
export function receivePackRequestBody(update: RefUpdate, pack: Buffer): Buffer {
  return Buffer.concat([
    pktLine(
      `${update.oldSha} ${update.newSha} ${update.ref}\0report-status side-band-64k agent=${AGENT}\n`,
    ),
    FLUSH_PKT,
    pack,
  ]);
}

/**
 * Reads receive-pack's answer: side-band packets (band 1 carries the report-status pkt-lines,
 * band 2 progress and error messages, band 3 a fatal error), or the bare report.
 */
export function parseReceivePackReport(body: Buffer, ref: string): ReceivePackReport {
  const outer = new PktLineReader(body);
  const report: Buffer[] = [];
  const messages: string[] = [];
  let packet = outer.next();
  const sideBand = packet?.kind === 'data' && packet.data[0]! <= 3;
  if (!sideBand) return readReport(body, ref, messages);
  for (; packet !== undefined; packet = outer.next()) {
    if (packet.kind !== 'data') continue;
    const band = packet.data[0];
    const data = packet.data.subarray(1);
    if (band === 1) report.push(data);
    else if (band === 2) messages.push(data.toString('utf8'));
    else if (band === 3) {
      return { status: 'unpack-failed', reason: data.toString('utf8').trim() };
    }
  }
  return readReport(Buffer.concat(report), ref, messages);
}

function readReport(report: Buffer, ref: string, messages: string[]): ReceivePackReport {
  const reader = new PktLineReader(report);
  const remote = messages.join('').trim().split('\n').slice(-3).join(' | ');
  const withRemote = (reason: string) => (remote === '' ? reason : `${reason} (remote: ${remote})`);
  const unpack = reader.nextText();
  if (unpack === undefined || !unpack.startsWith('unpack ')) {
    return { status: 'unpack-failed', reason: withRemote('receive-pack sent no report') };
  }
  if (unpack !== 'unpack ok') {
    return { status: 'unpack-failed', reason: withRemote(unpack.slice('unpack '.length)) };
  }
  for (let line = reader.nextText(); line !== undefined; line = reader.nextText()) {
    if (line === `ok ${ref}`) return { status: 'ok' };
    if (line.startsWith(`ng ${ref} `)) {
      return { status: 'ref-rejected', reason: withRemote(line.slice(`ng ${ref} `.length)) };
    }
  }
  return { status: 'ref-rejected', reason: withRemote(`no status reported for ${ref}`) };
}

function headers(target: ReceivePackTarget, contentType?: string): Record<string, string> {
  return {
    authorization: `Basic ${Buffer.from(`x-access-token:${target.token}`).toString('base64')}`,
    'user-agent': `git/${AGENT}`,
    ...(contentType === undefined ? {} : { 'content-type': contentType }),
  };
}

async function send(url: string, init: RequestInit, timeoutMs: number): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new ReceivePackHttpError(`request failed: ${(error as Error).message}`, 0);
  }
  const body = Buffer.from(await response.arrayBuffer());
  if (!response.ok) {
    const text = body.toString('utf8').trim().slice(0, 500);
    throw new ReceivePackHttpError(`HTTP ${response.status}: ${text}`, response.status);
  }
  return body;
}

/** POSTs the update and the pack to `<url>/git-receive-pack`: one request. */
export async function pushRefUpdate(
  target: ReceivePackTarget,
  update: RefUpdate,
  pack: Buffer,
): Promise<ReceivePackReport> {
  const body = await send(
    `${target.url.replace(/\/$/, '')}/git-receive-pack`,
    {
      method: 'POST',
      headers: {
        ...headers(target, 'application/x-git-receive-pack-request'),
        accept: 'application/x-git-receive-pack-result',
      },
      body: receivePackRequestBody(update, pack),
    },
    target.timeoutMs ?? 120_000,
  );
  try {
    return parseReceivePackReport(body, update.ref);
  } catch (error) {
    return { status: 'unpack-failed', reason: `unreadable answer: ${(error as Error).message}` };
  }
}

/** Where receive-pack's advertisement says `ref` is (ZERO_OBJECT_ID when absent): one GET. */
export async function advertisedRef(target: ReceivePackTarget, ref: string): Promise<string> {
  const body = await send(
    `${target.url.replace(/\/$/, '')}/info/refs?service=git-receive-pack`,
    { method: 'GET', headers: headers(target) },
    target.timeoutMs ?? 120_000,
  );
  const reader = new PktLineReader(body);
  for (let packet = reader.next(); packet !== undefined; packet = reader.next()) {
    if (packet.kind !== 'data') continue;
    const line = packet.data.toString('utf8').replace(/\n$/, '').split('\0')[0]!;
    const [sha, name] = line.split(' ');
    if (name === ref && sha !== undefined) return sha;
  }
  return ZERO_OBJECT_ID;
}
