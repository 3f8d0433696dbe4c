// A one-request smart-HTTP fetch of a single commit, shallow: protocol v0 in stateless-rpc
// form (gitprotocol-http(5), gitprotocol-pack(5)). Git's own client first GETs the ref
// advertisement; a single known commit needs none of it, so this POSTs the wants directly.
import { FLUSH_PKT, PktLineReader, pktLine } from './pkt-line.js';

export interface ShallowCommitRequest {
  /** The repository's clone URL, e.g. https://github.com/acme/api.git (no credentials). */
  readonly url: string;
  /** The full commit id wanted. */
  readonly commit: string;
  /** Sent only as `Authorization: Basic x-access-token:TOKEN`, never in the URL. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

/** The server's answer: the commits it cut the history at, and the raw pack as a stream. */
export interface ShallowCommitPack {
  /** `shallow` lines: commits whose parents the pack does not carry (record them as shallow). */
  readonly shallow: readonly string[];
  /** The pack file, not thin (self-contained), without side-band framing. */
  readonly pack: AsyncIterable<Uint8Array>;
}

/**
 * The server would not give the commit this way (an HTTP error, an `ERR` packet such as
 * "not our ref" for a commit it does not advertise, or an answer that is not a pack). The
 * caller can fall back to git's own fetch. The message never carries the token.
 */
export class UploadPackRefusedError extends Error {
  override readonly name = 'UploadPackRefusedError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const COMMIT_ID = /^[0-9a-f]{40}$/;

/** The request body: one want with its capabilities, depth 1, flush, done. No side-band: the pack arrives raw. */
export function shallowCommitRequestBody(commit: string): Buffer {
  return Buffer.concat([
    pktLine(`want ${commit} shallow no-progress ofs-delta agent=campaigns\n`),
    pktLine('deepen 1\n'),
    FLUSH_PKT,
    pktLine('done\n'),
  ]);
}

/** Whether `buffer` holds a whole pkt-line at `offset` (so PktLineReader can read it). */
function wholePacketAt(buffer: Buffer, offset: number): boolean {
  if (buffer.length < offset + 4) return false;
  const length = parseInt(buffer.toString('latin1', offset, offset + 4), 16);
  return Number.isNaN(length) || length < 4 || buffer.length >= offset + length;
}

/**
 * POSTs `want <commit>` + `deepen 1` to `<url>/git-upload-pack` and returns the shallow list and
 * the pack stream. One HTTP request; throws UploadPackRefusedError when the server refuses.
 */
export async function fetchShallowCommit(
  request: ShallowCommitRequest,
): Promise<ShallowCommitPack> {
  if (!COMMIT_ID.test(request.commit)) {
    throw new UploadPackRefusedError(`"${request.commit}" is not a full commit id`);
  }
  const headers: Record<string, string> = {
    'content-type': 'application/x-git-upload-pack-request',
    accept: 'application/x-git-upload-pack-result',
  };
  if (request.token) {
    headers.authorization = `Basic ${Buffer.from(`x-access-token:${request.token}`).toString('base64')}`;
  }
  const response = await fetch(`${request.url.replace(/\/$/, '')}/git-upload-pack`, {
    method: 'POST',
    headers,
    body: shallowCommitRequestBody(request.commit),
    signal: AbortSignal.timeout(request.timeoutMs ?? 10 * 60_000),
  }).catch((err: unknown) => {
    throw new UploadPackRefusedError(`upload-pack request failed: ${(err as Error).message}`);
  });
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => undefined);
    throw new UploadPackRefusedError(
      `upload-pack answered HTTP ${response.status}`,
      response.status,
    );
  }
  const chunks = response.body[Symbol.asyncIterator]();
  let buffer = Buffer.alloc(0);
  let offset = 0;
  const shallow: string[] = [];
  // The answer: shallow/unshallow lines, a flush, "NAK", then the raw pack.
  for (;;) {
    while (!wholePacketAt(buffer, offset)) {
      const { value, done } = await chunks.next();
      if (done) {
        throw new UploadPackRefusedError('upload-pack answer ended before the pack');
      }
      buffer = Buffer.concat([buffer.subarray(offset), value]);
      offset = 0;
    }
    const reader = new PktLineReader(buffer.subarray(offset));
    let packet;
    try {
      packet = reader.next();
    } catch (err) {
      await chunks.return?.();
      throw new UploadPackRefusedError(
        `upload-pack answer is not a pack: ${(err as Error).message}`,
      );
    }
    offset += reader.offset;
    if (packet?.kind !== 'data') continue;
    const line = packet.data.toString('utf8').replace(/\n$/, '');
    if (line.startsWith('ERR ')) {
      await chunks.return?.();
      throw new UploadPackRefusedError(`upload-pack refused: ${line.slice(4)}`);
    }
    if (line.startsWith('shallow ')) shallow.push(line.slice('shallow '.length));
    else if (line === 'NAK') break;
  }
  while (buffer.length - offset < 4) {
    const { value, done } = await chunks.next();
    if (done) break;
    buffer = Buffer.concat([buffer.subarray(offset), value]);
    offset = 0;
  }
  const first = buffer.subarray(offset);
  if (first.toString('latin1', 0, 4) !== 'PACK') {
    await chunks.return?.();
    throw new UploadPackRefusedError('upload-pack answered NAK without a pack');
  }
  async function* pack(): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first;
    for (;;) {
      const { value, done } = await chunks.next();
      if (done) return;
      yield value;
    }
  }
  return { shallow, pack: pack() };
}
