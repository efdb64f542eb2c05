/**
 * Softmax plus cross-entropy loss over the vocabulary, fused as in llm.c. Reference kernels.
 * The loss is computed as logsumexp(logits) - logits[target] in float64, not as -log(prob): a float32
 * probability can underflow to 0 and give an infinite loss where the true loss is finite.
 */
import type { Floats } from '../backend.js';

// probs (BT,V) = softmax(logits (BT,V)); losses (BT) = -log softmax(logits)[target]. Returns the mean loss.
export function crossEntropyForward(losses: Floats, probs: Floats, logits: Floats, targets: Int32Array, BT: number, V: number): number {
  let lossSum = 0;
  for (let row = 0; row < BT; row++) {
    const base = row * V;
    let maxLogit = -Infinity;
    for (let i = 0; i < V; i++) if (logits[base + i] > maxLogit) maxLogit = logits[base + i];
    let expSum = 0;
    for (let i = 0; i < V; i++) {
      const expLogit = Math.exp(logits[base + i] - maxLogit);
      probs[base + i] = expLogit;
      expSum += expLogit;
    }
    const expSumInverse = 1 / expSum;
    for (let i = 0; i < V; i++) probs[base + i] *= expSumInverse;
    const loss = Math.log(expSum) + maxLogit - logits[base + targets[row]];
    losses[row] = loss;
    lossSum += loss;
  }
  return lossSum / BT;
}

// dLogits (BT,V) = (probs - onehot(target)) * dLossScale, overwritten; dLossScale is 1 / BT for a mean loss
export function crossEntropyBackward(dLogits: Floats, probs: Floats, targets: Int32Array, dLossScale: number, BT: number, V: number): void {
  for (let row = 0; row < BT; row++) {
    const base = row * V;
    for (let i = 0; i < V; i++) dLogits[base + i] = probs[base + i] * dLossScale;
    dLogits[base + targets[row]] -= dLossScale;
  }
}
