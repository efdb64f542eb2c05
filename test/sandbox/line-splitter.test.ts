/** LineSplitter: lines across chunk boundaries, empty lines, UTF-8 split mid-character, and the bound on a line. */
import { expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_BYTES } from '../../src/sandbox/line-splitter.js';

it('cuts a stream into lines however it is chunked, bounding each line', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  const text = Buffer.from('first\n\nsecond li', 'utf8');
  splitter.push(text);
  const euro = Buffer.from('ne €\nthird\n', 'utf8');
  splitter.push(euro.subarray(0, 6)); // the euro sign's three bytes arrive in two chunks
  splitter.push(euro.subarray(6));
  splitter.push(Buffer.alloc(MAX_LINE_BYTES * 2 + 10, 'x'));
  splitter.push(Buffer.from('\n'));
  expect(lines.slice(0, 4)).toEqual(['first', '', 'second line €', 'third']);
  expect(lines.slice(4).map((line) => line.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES, 10]);
});
