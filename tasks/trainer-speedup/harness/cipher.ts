/**
 * Trusted: the per-run cipher. Every run trains and is scored on Moby Dick with its ASCII bytes relabelled by a
 * secret permutation drawn from the run's key (bytes >= 0x80 stay put, so the text stays valid UTF-8 and its
 * structure, entropy and difficulty are unchanged: a byte-level model learns any relabelling equally well). Weights
 * trained before the run (copied, shipped in the change, cached) fit some other labelling and miss the target.
 *
 * After scoring, a passed checkpoint is deciphered (embedding and head rows put back in byte order) so the kept
 * model reads and writes plain text.
 */
import { createHash } from 'node:crypto';

type Checkpoint = import('../../../src/gpt/checkpoint.js').Checkpoint;
type ParameterLayout = typeof import('../../../src/gpt/config.js').parameterLayout;

const ASCII = 128;

/** A permutation of 0..127 (index: plain byte, value: cipher byte), uniform given a secret key. */
export function asciiPermutation(key: string): Uint8Array {
  if (!/^[0-9a-f]{32,}$/.test(key)) throw new Error('the run key must be at least 16 bytes of hex');
  const permutation = Uint8Array.from({ length: ASCII }, (_, index) => index);
  let block = 0;
  let pool: Buffer = Buffer.alloc(0);
  let used = 0;
  const nextByte = (): number => {
    if (used === pool.length) {
      pool = createHash('sha256').update(`successor-cipher:${key}:${block++}`).digest();
      used = 0;
    }
    return pool[used++];
  };
  for (let index = ASCII - 1; index > 0; index--) {
    // Rejection sampling keeps the draw uniform: take the low 7 bits, retry when they exceed index.
    let draw: number;
    do draw = nextByte() & 0x7f;
    while (draw > index);
    [permutation[index], permutation[draw]] = [permutation[draw], permutation[index]];
  }
  return permutation;
}

export function invert(permutation: Uint8Array): Uint8Array {
  const inverse = new Uint8Array(permutation.length);
  permutation.forEach((cipher, plain) => (inverse[cipher] = plain));
  return inverse;
}

/** The bytes with every ASCII byte relabelled (a new buffer). */
export function encipher(bytes: Uint8Array, permutation: Uint8Array): Buffer {
  const out = Buffer.from(bytes);
  for (let index = 0; index < out.length; index++) if (out[index] < ASCII) out[index] = permutation[out[index]];
  return out;
}

/**
 * The checkpoint of a model trained on enciphered text, rewritten to read plain text: for a byte tokenizer the
 * token-embedding (and untied head) row of plain byte b is the trained row of cipher byte permutation[b]; for a char
 * tokenizer only the vocabulary's characters change. Optimizer state is dropped (this copy is for use, not resume).
 */
export function decipherCheckpoint(checkpoint: Checkpoint, permutation: Uint8Array, parameterLayout: ParameterLayout): Checkpoint {
  if (checkpoint.tokenizer.kind === 'char') {
    const inverse = invert(permutation);
    const vocabulary = checkpoint.tokenizer.vocabulary.map((character) => {
      const code = character.codePointAt(0)!;
      return code < ASCII ? String.fromCharCode(inverse[code]) : character;
    });
    return { model: checkpoint.model, tokenizer: { kind: 'char', vocabulary }, params: checkpoint.params };
  }
  const params = Float32Array.from(checkpoint.params);
  const { slices } = parameterLayout(checkpoint.model);
  const width = checkpoint.model.width;
  for (const name of ['wte', 'lmhead'] as const) {
    const { offset, size } = slices[name];
    if (size === 0) continue;
    for (let plain = 0; plain < ASCII; plain++) {
      const from = offset + permutation[plain] * width;
      params.set(checkpoint.params.subarray(from, from + width), offset + plain * width);
    }
  }
  return { model: checkpoint.model, tokenizer: checkpoint.tokenizer, params };
}
