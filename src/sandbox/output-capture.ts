/**
 * Bounded capture of one output stream: keeps the first half and the last half of `limitBytes`, drops the middle.
 *
 * Why head and tail: a trainer prints its configuration first and ends with its greppable `key: value` summary;
 * both survive a chatty middle. Memory stays bounded whatever the command writes. The flood rule (kill past a
 * multiple of the cap) lives in the runner; this only counts.
 */
export class OutputCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** Every byte the command wrote to this stream, kept or not. */
  totalBytes = 0;

  constructor(limitBytes: number) {
    this.headLimit = Math.floor(limitBytes / 2);
    this.tailLimit = limitBytes - this.headLimit;
  }

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    if (this.headBytes < this.headLimit) {
      const taken = chunk.subarray(0, this.headLimit - this.headBytes);
      this.head.push(taken);
      this.headBytes += taken.length;
      chunk = chunk.subarray(taken.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    // Drop whole chunks from the front while the rest still fills the tail; trim the last one when reading.
    while (this.tail.length > 1 && this.tailBytes - this.tail[0].length >= this.tailLimit) {
      this.tailBytes -= this.tail.shift()!.length;
    }
  }

  get truncated(): boolean {
    return this.totalBytes > this.headLimit + this.tailLimit;
  }

  text(): string {
    const tail = Buffer.concat(this.tail);
    const keptTail = tail.subarray(Math.max(0, tail.length - this.tailLimit));
    const head = Buffer.concat(this.head).toString('utf8');
    if (!this.truncated) return head + keptTail.toString('utf8');
    const dropped = this.totalBytes - this.headBytes - keptTail.length;
    return `${head}\n[... ${dropped} bytes dropped by the sandbox ...]\n${keptTail.toString('utf8')}`;
  }
}
