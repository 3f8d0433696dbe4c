// Git's pkt-line framing (gitprotocol-common(5)): four hex digits giving the length of the line
// including themselves, then the data; "0000" is a flush packet, "0001" a delimiter (v2).

/** Largest pkt-line git accepts: 65520 bytes including the four length digits. */
export const MAX_PKT_LINE_BYTES = 65520;

export const FLUSH_PKT = Buffer.from('0000', 'latin1');

/** One pkt-line carrying `data` (a string is sent as UTF-8). */
export function pktLine(data: string | Buffer): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = payload.length + 4;
  if (length > MAX_PKT_LINE_BYTES) {
    throw new RangeError(
      `a pkt-line holds at most ${MAX_PKT_LINE_BYTES - 4} bytes, got ${payload.length}`,
    );
  }
  return Buffer.concat([Buffer.from(length.toString(16).padStart(4, '0'), 'latin1'), payload]);
}

/** A packet read from a pkt-line stream: data, or one of the special packets. */
export type Packet = { kind: 'data'; data: Buffer } | { kind: 'flush' } | { kind: 'delim' };

/** A pkt-line stream that is not one: what was wrong and where. */
export class PktLineError extends Error {
  override readonly name = 'PktLineError';
}

/**
 * Reads pkt-lines from a buffer that holds a whole response. `rest()` gives what follows the
 * packets read so far, e.g. the raw pack after upload-pack's "NAK".
 */
export class PktLineReader {
  #offset = 0;

  constructor(private readonly buffer: Buffer) {}

  /** The next packet, or undefined at the end of the buffer. */
  next(): Packet | undefined {
    if (this.#offset >= this.buffer.length) return undefined;
    if (this.#offset + 4 > this.buffer.length) {
      throw new PktLineError(`truncated pkt-line length at byte ${this.#offset}`);
    }
    const hex = this.buffer.toString('latin1', this.#offset, this.#offset + 4);
    if (!/^[0-9a-f]{4}$/i.test(hex)) {
      throw new PktLineError(`invalid pkt-line length "${hex}" at byte ${this.#offset}`);
    }
    const length = parseInt(hex, 16);
    if (length === 0) {
      this.#offset += 4;
      return { kind: 'flush' };
    }
    if (length === 1) {
      this.#offset += 4;
      return { kind: 'delim' };
    }
    if (length < 4 || this.#offset + length > this.buffer.length) {
      throw new PktLineError(
        `pkt-line of length ${length} at byte ${this.#offset} overruns the data`,
      );
    }
    const data = this.buffer.subarray(this.#offset + 4, this.#offset + length);
    this.#offset += length;
    return { kind: 'data', data };
  }

  /** The next data packet as text without its trailing newline; undefined for flush/delim/end. */
  nextText(): string | undefined {
    const packet = this.next();
    return packet?.kind === 'data' ? packet.data.toString('utf8').replace(/\n$/, '') : undefined;
  }

  /** Whatever follows the packets read so far. */
  rest(): Buffer {
    return this.buffer.subarray(this.#offset);
  }

  get offset(): number {
    return this.#offset;
  }
}
