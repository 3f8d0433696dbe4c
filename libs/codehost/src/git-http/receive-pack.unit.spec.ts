import { describe, expect, it } from '@jest/globals';
import { FLUSH_PKT, pktLine } from './pkt-line.js';
import { parseReceivePackReport, receivePackRequestBody, ZERO_OBJECT_ID } from './receive-pack.js';

const REF = 'refs/heads/hello-world';
const report = (...lines: string[]) => Buffer.concat([...lines.map((l) => pktLine(l)), FLUSH_PKT]);
const band = (n: number, data: Buffer | string) =>
  pktLine(Buffer.concat([Buffer.from([n]), Buffer.from(data)]));

describe('receive-pack', () => {
  it('sends the update with report-status and side-band-64k, a flush, then the pack', () => {
    const body = receivePackRequestBody(
      { ref: REF, oldSha: ZERO_OBJECT_ID, newSha: 'a'.repeat(40) },
      Buffer.from('PACK…'),
    );
    const text = body.toString('latin1');
    expect(text).toMatch(
      new RegExp(
        `^[0-9a-f]{4}${ZERO_OBJECT_ID} ${'a'.repeat(40)} ${REF}\0report-status side-band-64k agent=campaigns/1\n0000PACK`,
      ),
    );
  });

  it('reads ok from a side-band answer, whatever progress band 2 carried', () => {
    const answer = Buffer.concat([
      band(2, 'Resolving deltas: 100% (1/1)\n'),
      band(1, report('unpack ok\n', `ok ${REF}\n`)),
      FLUSH_PKT,
    ]);
    expect(parseReceivePackReport(answer, REF)).toEqual({ status: 'ok' });
  });

  it('reads a report split over several band-1 packets', () => {
    const inner = report('unpack ok\n', `ng ${REF} failed to update ref\n`);
    const answer = Buffer.concat([
      band(1, inner.subarray(0, 7)),
      band(2, 'error: cannot lock ref: is at 1234 but expected 0000\n'),
      band(1, inner.subarray(7)),
      FLUSH_PKT,
    ]);
    expect(parseReceivePackReport(answer, REF)).toEqual({
      status: 'ref-rejected',
      reason: 'failed to update ref (remote: error: cannot lock ref: is at 1234 but expected 0000)',
    });
  });

  it('reads a failed unpack, a fatal band-3 message and an answer without side-band', () => {
    expect(
      parseReceivePackReport(
        band(1, report('unpack index-pack abnormal exit\n', `ng ${REF} unpacker error\n`)),
        REF,
      ),
    ).toEqual({ status: 'unpack-failed', reason: 'index-pack abnormal exit' });
    expect(parseReceivePackReport(band(3, 'fatal: protocol error\n'), REF)).toEqual({
      status: 'unpack-failed',
      reason: 'fatal: protocol error',
    });
    expect(parseReceivePackReport(report('unpack ok\n', `ok ${REF}\n`), REF)).toEqual({
      status: 'ok',
    });
    expect(parseReceivePackReport(Buffer.alloc(0), REF)).toMatchObject({ status: 'unpack-failed' });
  });
});
