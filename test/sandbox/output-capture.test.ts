/** Bounded capture: everything below the cap verbatim; above it, the head and the tail with a marker between. */
import { describe, expect, it } from 'vitest';
import { OutputCapture } from '../../src/sandbox/output-capture.js';

describe('OutputCapture', () => {
  it('keeps output under the cap verbatim, across chunks', () => {
    const capture = new OutputCapture(100);
    for (const part of ['hello ', 'sandbox', '\n']) capture.push(Buffer.from(part));
    expect(capture.text()).toBe('hello sandbox\n');
    expect(capture.truncated).toBe(false);
  });

  it('keeps exactly the first and last halves of a long stream, and counts what it dropped', () => {
    const capture = new OutputCapture(10);
    const stream = Array.from({ length: 1000 }, (_, index) => String.fromCharCode(97 + (index % 26))).join('');
    for (let offset = 0; offset < stream.length; offset += 7) capture.push(Buffer.from(stream.slice(offset, offset + 7)));
    expect(capture.truncated).toBe(true);
    expect(capture.totalBytes).toBe(1000);
    expect(capture.text()).toBe(`${stream.slice(0, 5)}\n[... 990 bytes dropped by the sandbox ...]\n${stream.slice(-5)}`);
  });

  it('handles one chunk larger than the whole cap', () => {
    const capture = new OutputCapture(4);
    capture.push(Buffer.from('0123456789'));
    expect(capture.text()).toBe('01\n[... 6 bytes dropped by the sandbox ...]\n89');
  });
});
