// Trains a one-hidden-layer tanh MLP (2 -> H -> 2 classes) on the two-spirals training points with full-batch
// gradient descent with momentum, then writes the weights for the harness to evaluate on held-out points.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [inputs, artifacts] = process.argv.slice(2);
const config = JSON.parse(readFileSync('config.json', 'utf8'));
const { points, labels } = JSON.parse(readFileSync(join(inputs, 'train.json'), 'utf8'));
const H = config.hidden;
const N = points.length;

// mulberry32 for the initial weights.
let state = (config.seed ?? 0) + 1;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const init = (length, scale) => Float64Array.from({ length }, () => (random() * 2 - 1) * scale);
const w1 = init(H * 2, config.initScale); // (H, 2)
const b1 = new Float64Array(H); // (H)
const w2 = init(2 * H, config.initScale); // (2, H)
const b2 = new Float64Array(2); // (2)
const parameters = [w1, b1, w2, b2];
const velocities = parameters.map((p) => new Float64Array(p.length));

const hiddenActivations = new Float64Array(H);
for (let epoch = 0; epoch < config.epochs; epoch++) {
  const grads = parameters.map((p) => new Float64Array(p.length));
  const [dW1, dB1, dW2, dB2] = grads;
  for (let n = 0; n < N; n++) {
    const [x, y] = points[n];
    for (let h = 0; h < H; h++) hiddenActivations[h] = Math.tanh(w1[h * 2] * x + w1[h * 2 + 1] * y + b1[h]);
    const logits = [b2[0], b2[1]];
    for (let o = 0; o < 2; o++) for (let h = 0; h < H; h++) logits[o] += w2[o * H + h] * hiddenActivations[h];
    const top = Math.max(logits[0], logits[1]);
    const e0 = Math.exp(logits[0] - top), e1 = Math.exp(logits[1] - top);
    const dLogits = [e0 / (e0 + e1), e1 / (e0 + e1)];
    dLogits[labels[n]] -= 1;
    for (let o = 0; o < 2; o++) {
      dB2[o] += dLogits[o] / N;
      for (let h = 0; h < H; h++) dW2[o * H + h] += (dLogits[o] * hiddenActivations[h]) / N;
    }
    for (let h = 0; h < H; h++) {
      const dHidden = (dLogits[0] * w2[h] + dLogits[1] * w2[H + h]) * (1 - hiddenActivations[h] ** 2);
      dW1[h * 2] += (dHidden * x) / N;
      dW1[h * 2 + 1] += (dHidden * y) / N;
      dB1[h] += dHidden / N;
    }
  }
  parameters.forEach((p, index) => {
    for (let i = 0; i < p.length; i++) {
      velocities[index][i] = config.momentum * velocities[index][i] - config.learningRate * (grads[index][i] + config.weightDecay * p[i]);
      p[i] += velocities[index][i];
    }
  });
}
mkdirSync(artifacts, { recursive: true });
writeFileSync(join(artifacts, 'model.json'), JSON.stringify({ hidden: H, w1: [...w1], b1: [...b1], w2: [...w2], b2: [...b2] }));
console.log(`epochs: ${config.epochs}`);
