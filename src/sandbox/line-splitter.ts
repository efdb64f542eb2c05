/**
 * Cuts a byte stream into lines for a watcher, bounded: a line longer than MAX_LINE_BYTES is cut there (a run that
 * never prints a newline cannot make the parent hold its whole output), and bytes are decoded as UTF-8 per line.
 */
export const MAX_LINE_BYTES = 4096;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, start)) {
      this.take(chunk.subarray(start, index));
      this.flush();
      start = index + 1;
    }
    this.take(chunk.subarray(start));
  }

  private take(part: Buffer): void {
    let rest = part;
    while (this.pendingBytes + rest.length > MAX_LINE_BYTES) {
      const room = MAX_LINE_BYTES - this.pendingBytes;
      this.pending.push(rest.subarray(0, room));
      this.pendingBytes += room;
      this.flush();
      rest = rest.subarray(room);
    }
    if (rest.length) {
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }

  private flush(): void {
    const line = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    this.onLine(line);
  }
}
