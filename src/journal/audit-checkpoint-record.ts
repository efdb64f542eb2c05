/**
 * A signed checkpoint of the audit log: the head {seq, hash} at a moment, signed with the lab's Ed25519 key.
 * This file is the record and the exact bytes that are signed; signing, storing and checking are checkpoint.ts.
 */
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { Timestamp } from './rows.js';

export const SignedCheckpoint = z.object({
  /** The audit entry pinned: seq 0 with the genesis hash pins an empty log. */
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest'),
  at: Timestamp,
  /** sha256 of the public key (DER), first 16 hex digits: names which key signed it. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ed25519 signature of `checkpointBytes`, base64. */
  signature: z.string().min(1),
}).strict();
export type SignedCheckpoint = z.infer<typeof SignedCheckpoint>;

/** What is signed: a domain tag (so no other signed message can pass as a checkpoint) and the pinned head. */
export function checkpointBytes(checkpoint: Pick<SignedCheckpoint, 'seq' | 'hash' | 'at'>): Buffer {
  const { seq, hash, at } = checkpoint;
  return Buffer.from(canonicalJson({ at, hash, seq, type: 'successor.audit-checkpoint.v1' }), 'utf8');
}
