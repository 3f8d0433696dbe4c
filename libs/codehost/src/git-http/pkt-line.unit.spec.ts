import { describe, expect, it } from '@jest/globals';
import { FLUSH_PKT, PktLineError, PktLineReader, pktLine } from './pkt-line.js';

describe('pkt-line', () => {
  it('frames data with its length in four hex digits, as git does', () => {
    expect(pktLine('want abc\n').toString('latin1')).toBe('000dwant abc\n');
    expect(pktLine('').toString('latin1')).toBe('0004');
    expect(FLUSH_PKT.toString('latin1')).toBe('0000');
  });

  it('refuses data longer than a pkt-line can carry', () => {
    expect(() => pktLine(Buffer.alloc(65517))).toThrow(RangeError);
    expect(pktLine(Buffer.alloc(65516))).toHaveLength(65520);
  });

  it('reads back data, flush and delimiter packets and leaves what follows them', () => {
    const stream = Buffer.concat([
      pktLine('NAK\n'),
      pktLine('shallow 1234\n'),
      Buffer.from('0001', 'latin1'),
      FLUSH_PKT,
      Buffer.from('PACK…', 'utf8'),
    ]);
    const reader = new PktLineReader(stream);
    expect(reader.nextText()).toBe('NAK');
    expect(reader.nextText()).toBe('shallow 1234');
    expect(reader.next()).toEqual({ kind: 'delim' });
    expect(reader.next()).toEqual({ kind: 'flush' });
    expect(reader.rest().toString('utf8')).toBe('PACK…');
  });

  it('says where a stream stops being pkt-lines', () => {
    expect(() => new PktLineReader(Buffer.from('00zzabc', 'latin1')).next()).toThrow(
      new PktLineError('invalid pkt-line length "00zz" at byte 0'),
    );
    expect(() => new PktLineReader(Buffer.from('0010abc', 'latin1')).next()).toThrow(
      /overruns the data/,
    );
    expect(new PktLineReader(Buffer.alloc(0)).next()).toBeUndefined();
  });
});
