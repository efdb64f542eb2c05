/**
 * Trusted: passes the run when its C matches the hidden product element by element (relative to the largest
 * magnitude); the lab's clock is the score. Never runs workspace code: it only reads the bytes the run left.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const parameters = JSON.parse(process.env.SUCCESSOR_PARAMS ?? '{}') as { size: number; relativeTolerance: number };
const report = (passed: boolean, reason: string | undefined, metrics: Record<string, number>) =>
  process.stdout.write(`${JSON.stringify({ passed, reason, metrics })}\n`);
const toFloats = (bytes: Buffer) => new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

const outputPath = join(process.env.SUCCESSOR_ARTIFACTS ?? '', 'c.bin');
if (!process.env.SUCCESSOR_ARTIFACTS || !existsSync(outputPath)) {
  report(false, 'the run left no artifacts/c.bin', {});
} else {
  const expected = toFloats(readFileSync(join(process.env.SUCCESSOR_HIDDEN ?? '', 'c.bin')));
  const bytes = readFileSync(outputPath);
  if (bytes.byteLength !== expected.byteLength) {
    report(false, `c.bin has ${bytes.byteLength} bytes, expected ${expected.byteLength}`, {});
  } else {
    const actual = toFloats(bytes);
    let largest = 0;
    for (const value of expected) largest = Math.max(largest, Math.abs(value));
    let worst = 0;
    for (let index = 0; index < expected.length; index++) {
      const error = Math.abs(actual[index] - expected[index]);
      worst = Number.isNaN(error) ? Infinity : Math.max(worst, error);
    }
    const relativeError = worst / largest;
    const passed = relativeError <= parameters.relativeTolerance;
    report(passed, passed ? undefined : `wrong product: max relative error ${relativeError}`, { maxRelativeError: relativeError });
  }
}
