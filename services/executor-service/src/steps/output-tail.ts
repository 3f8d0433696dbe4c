/** Keeps the last `capBytes` bytes written to it, and counts what it dropped. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes dropped from the start because the output exceeded the cap. */
  droppedBytes = 0;

  constructor(private readonly capBytes: number) {}

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.capBytes * 2) this.compact();
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const keep = all.subarray(Math.max(0, all.length - this.capBytes));
    this.droppedBytes += all.length - keep.length;
    this.chunks = [Buffer.from(keep)];
    this.size = keep.length;
  }

  /** The kept tail as text (a multi-byte character cut at the start becomes U+FFFD). */
  text(): string {
    this.compact();
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
