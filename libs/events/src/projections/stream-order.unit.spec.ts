import { describe, expect, it } from '@jest/globals';
import { StreamOrder } from './stream-order.js';

const ev = (stream_id: string, v: number) => ({ stream_id, stream_version: BigInt(v) });
const names = (events: { stream_id: string; stream_version: bigint }[]) =>
  events.map((e) => `${e.stream_id}@${e.stream_version}`);

describe('StreamOrder', () => {
  it('passes events already in version order straight through', () => {
    const order = new StreamOrder();
    expect(names(order.push([ev('a', 1), ev('b', 1), ev('a', 2)]))).toEqual(['a@1', 'b@1', 'a@2']);
    expect(order.held).toBe(0);
  });

  it('holds a version that arrives before the one it follows, across batches', () => {
    const order = new StreamOrder();
    expect(names(order.push([ev('a', 1), ev('a', 3), ev('b', 1)]))).toEqual(['a@1', 'b@1']);
    expect(order.held).toBe(1);
    expect(names(order.push([ev('a', 2), ev('a', 4)]))).toEqual(['a@2', 'a@3', 'a@4']);
    expect(order.held).toBe(0);
  });

  it('skips a version it has released already, and keeps a gap held', () => {
    const order = new StreamOrder();
    expect(names(order.push([ev('a', 1), ev('a', 1), ev('a', 3)]))).toEqual(['a@1']);
    expect(order.held).toBe(1);
  });
});
