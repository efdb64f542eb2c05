/**
 * Causal multi-head self-attention (the part between the qkv projection and the output projection).
 * Reference kernels after llm.c: the forward pass keeps the pre-softmax scores and the softmax for backward.
 * hs = C / NH is the head size. Not the place for the projections (those are matmuls) or for dropout.
 */
import type { Floats } from '../backend.js';

// qkv (B,T,3C) holds query, key, value side by side per position; head h uses channels [h*hs, (h+1)*hs) of each.
// out (B,T,C); preatt, att (B,NH,T,T), of which only t2 <= t is meaningful (att is 0 above the diagonal)
export function attentionForward(out: Floats, preatt: Floats, att: Floats, qkv: Floats, B: number, T: number, C: number, NH: number): void {
  const C3 = 3 * C;
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const query = (b * T + t) * C3 + h * hs;
        const scores = ((b * NH + h) * T + t) * T; // row t of this head's (T,T) matrices
        // scores against every key up to t, and their maximum for a stable softmax
        let maxScore = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const key = (b * T + t2) * C3 + C + h * hs;
          let dot = 0;
          for (let i = 0; i < hs; i++) dot += qkv[query + i] * qkv[key + i];
          dot *= scale;
          preatt[scores + t2] = dot;
          if (dot > maxScore) maxScore = dot;
        }
        let expSum = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const expScore = Math.exp(preatt[scores + t2] - maxScore);
          att[scores + t2] = expScore;
          expSum += expScore;
        }
        const expSumInverse = 1 / expSum;
        for (let t2 = 0; t2 <= t; t2++) att[scores + t2] *= expSumInverse;
        for (let t2 = t + 1; t2 < T; t2++) {
          preatt[scores + t2] = 0;
          att[scores + t2] = 0; // causal mask, written out so the buffer never holds a stale row
        }
        // out = att @ value
        const outHead = (b * T + t) * C + h * hs;
        for (let i = 0; i < hs; i++) out[outHead + i] = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const value = (b * T + t2) * C3 + 2 * C + h * hs;
          const weight = att[scores + t2];
          for (let i = 0; i < hs; i++) out[outHead + i] += weight * qkv[value + i];
        }
      }
    }
  }
}

// dQkv (B,T,3C) = gradients from dOut (B,T,C), overwritten (an activation's gradient). dPreatt, dAtt (B,NH,T,T) are
// scratch: each entry at t2 <= t is written before the query/key gradients read it back (as in llm.c).
export function attentionBackward(
  dQkv: Floats, dPreatt: Floats, dAtt: Floats, dOut: Floats, qkv: Floats, att: Floats,
  B: number, T: number, C: number, NH: number,
): void {
  const C3 = 3 * C;
  const hs = C / NH;
  const scale = 1 / Math.sqrt(hs);
  dQkv.fill(0, 0, B * T * C3); // a key's or value's gradient sums over the later positions that read it
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const query = (b * T + t) * C3 + h * hs;
        const scores = ((b * NH + h) * T + t) * T;
        const dOutHead = (b * T + t) * C + h * hs;
        // out = att @ value: into dAtt and dValue
        for (let t2 = 0; t2 <= t; t2++) {
          const value = (b * T + t2) * C3 + 2 * C + h * hs;
          const weight = att[scores + t2];
          let dot = 0;
          for (let i = 0; i < hs; i++) {
            dot += qkv[value + i] * dOut[dOutHead + i];
            dQkv[value + i] += weight * dOut[dOutHead + i];
          }
          dAtt[scores + t2] = dot;
        }
        // softmax: dPreatt = att * (dAtt - sum(att * dAtt)), the O(T) form of the Jacobian product
        let weightedSum = 0;
        for (let t2 = 0; t2 <= t; t2++) weightedSum += att[scores + t2] * dAtt[scores + t2];
        for (let t2 = 0; t2 <= t; t2++) dPreatt[scores + t2] = att[scores + t2] * (dAtt[scores + t2] - weightedSum);
        // preatt = scale * query . key: into dQuery and dKey
        for (let t2 = 0; t2 <= t; t2++) {
          const key = (b * T + t2) * C3 + C + h * hs;
          const dScore = dPreatt[scores + t2] * scale;
          for (let i = 0; i < hs; i++) {
            dQkv[query + i] += qkv[key + i] * dScore;
            dQkv[key + i] += qkv[query + i] * dScore;
          }
        }
      }
    }
  }
}
