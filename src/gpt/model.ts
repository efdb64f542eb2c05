/**
 * The successor: a GPT-2-style decoder-only transformer over one flat parameter buffer, after llm.c's
 * `train_gpt2.c`. Pre-norm blocks (x + attention(norm1(x)), x + mlp(norm2(x))), a final norm and a language-model
 * head (the token embedding when tied). Every switch of `ModelConfig` is supported: layernorm | rmsnorm,
 * gelu | relu2, tied | untied embeddings, any mlpRatio.
 *
 * The model only sequences kernels of a `Backend` and owns the buffers; the math lives in the kernels. Buffers are
 * float32 from `backend.allocate`, unless the caller passes its own allocator (float64 for gradient checks, where
 * the reference backend must be used). Not here: the optimizer (`adamw.ts`), data, checkpoints, sampling policy.
 * Dimension letters as in `config.ts`; H = mlpRatio * C is the MLP's hidden width.
 */
import type { Backend, Floats } from './backend.js';
import { ModelConfig, PARAMETER_NAMES, parameterLayout, type ParameterName } from './config.js';
import { createRng } from './random.js';

export interface GptShape {
  batchSize: number; // the largest B a forward pass may use
  sequenceLength: number; // the largest T a forward pass may use (at most contextLength)
}

export interface GptOptions<F extends Floats> {
  /** Allocator for parameters, gradients and activations; defaults to `backend.allocate` (float32). */
  allocate?: (length: number) => F;
}

/** Matrices drawn from normal(0, 0.02); the rest start at 0 (biases) or 1 (norm weights). */
const MATRICES: ReadonlySet<ParameterName> = new Set(['wte', 'wpe', 'qkvw', 'attprojw', 'fcw', 'fcprojw', 'lmhead']);
/** Projections into the residual stream: GPT-2 scales their init by 1/sqrt(2L) so the stream's variance stays put. */
const RESIDUAL_PROJECTIONS: ReadonlySet<ParameterName> = new Set(['attprojw', 'fcprojw']);
const NORM_WEIGHTS: ReadonlySet<ParameterName> = new Set(['ln1w', 'ln2w', 'lnfw']);
const INIT_STD = 0.02;

const LAYER_PARAMETERS = [
  'ln1w', 'ln1b', 'qkvw', 'qkvb', 'attprojw', 'attprojb', 'ln2w', 'ln2b', 'fcw', 'fcb', 'fcprojw', 'fcprojb',
] as const satisfies readonly ParameterName[];
type LayerParameters<F> = Record<(typeof LAYER_PARAMETERS)[number], F>;

type LayerActivations<F> = Record<
  | 'ln1' | 'ln1Mean' | 'ln1Rstd' | 'qkv' | 'atty' | 'preatt' | 'att' | 'attproj' | 'residual2'
  | 'ln2' | 'ln2Mean' | 'ln2Rstd' | 'fch' | 'fchActivated' | 'fcproj' | 'residual3',
  F
>;

/** Gradients of activations. One layer's worth, reused by every layer: backward visits layers one at a time. */
type ActivationGradients<F> = Record<'residual' | 'ln' | 'qkv' | 'atty' | 'preatt' | 'att' | 'fch' | 'fchActivated' | 'logits', F>;

export class Gpt<F extends Floats = Float32Array> {
  readonly config: ModelConfig;
  readonly backend: Backend;
  readonly layout: ReturnType<typeof parameterLayout>;
  readonly params: F; // all parameters, cut by `layout`
  readonly grads: F; // same layout
  readonly shape: GptShape;

  private readonly allocate: (length: number) => F;
  private readonly layerParams: LayerParameters<F>[];
  private readonly layerGrads: LayerParameters<F>[];
  private readonly layers: LayerActivations<F>[];
  private readonly encoded: F; // (B,T,C)
  private readonly lnf: F; // (B,T,C)
  private readonly lnfMean: F; // (B,T), empty under rmsnorm
  private readonly lnfRstd: F; // (B,T)
  private readonly logits: F; // (B,T,V)
  private readonly probs: F; // (B,T,V)
  private readonly losses: F; // (B,T)
  private readonly inputs: Int32Array; // (B,T) of the last forward
  private readonly targets: Int32Array; // (B,T) of the last forward
  private activationGrads: ActivationGradients<F> | null = null; // allocated on the first backward
  private last = { B: 0, T: 0, hasTargets: false };

  constructor(config: ModelConfig, backend: Backend, shape: GptShape, options: GptOptions<F> = {}) {
    this.config = ModelConfig.parse(config);
    this.backend = backend;
    const { contextLength, vocabSize: V, width: C, heads: NH, layers: L } = this.config;
    const { batchSize: B, sequenceLength: T } = shape;
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1 || T > contextLength) {
      throw new RangeError(`shape needs integers batchSize >= 1 and 1 <= sequenceLength <= ${contextLength}, got ${B}x${T}`);
    }
    this.shape = { batchSize: B, sequenceLength: T };
    this.allocate = options.allocate ?? (backend.allocate as unknown as (length: number) => F);
    this.layout = parameterLayout(this.config);
    this.params = this.allocate(this.layout.total);
    this.grads = this.allocate(this.layout.total);
    this.layerParams = this.cutLayers(this.params);
    this.layerGrads = this.cutLayers(this.grads);

    // activations sized for the largest (B,T); a smaller forward uses the start of each tensor
    const BT = B * T;
    const H = this.config.mlpRatio * C;
    const meanSize = this.config.norm === 'layernorm' ? BT : 0;
    const attentionSize = B * NH * T * T;
    const layerSizes: Record<keyof LayerActivations<F>, number> = {
      ln1: BT * C, ln1Mean: meanSize, ln1Rstd: BT, qkv: BT * 3 * C, atty: BT * C,
      preatt: attentionSize, att: attentionSize, attproj: BT * C, residual2: BT * C,
      ln2: BT * C, ln2Mean: meanSize, ln2Rstd: BT, fch: BT * H, fchActivated: BT * H, fcproj: BT * C, residual3: BT * C,
    };
    const modelSizes = { encoded: BT * C, lnf: BT * C, lnfMean: meanSize, lnfRstd: BT, logits: BT * V, probs: BT * V, losses: BT };
    const layerTotal = Object.values(layerSizes).reduce((sum, size) => sum + size, 0);
    const modelTotal = Object.values(modelSizes).reduce((sum, size) => sum + size, 0);
    const activations = this.allocate(L * layerTotal + modelTotal);
    this.layers = [];
    for (let l = 0; l < L; l++) this.layers.push(cut(activations.subarray(l * layerTotal) as F, layerSizes));
    const model = cut(activations.subarray(L * layerTotal) as F, modelSizes);
    ({ encoded: this.encoded, lnf: this.lnf, lnfMean: this.lnfMean, lnfRstd: this.lnfRstd } = model);
    ({ logits: this.logits, probs: this.probs, losses: this.losses } = model);
    this.inputs = new Int32Array(BT);
    this.targets = new Int32Array(BT);
  }

  /** A view into `params`. */
  tensor(name: ParameterName): F {
    const { offset, size } = this.layout.slices[name];
    return this.params.subarray(offset, offset + size) as F;
  }

  /** A view into `grads`. */
  gradient(name: ParameterName): F {
    const { offset, size } = this.layout.slices[name];
    return this.grads.subarray(offset, offset + size) as F;
  }

  /** GPT-2 initialization, fully determined by the seed: tensors are drawn in layout order from one generator. */
  initialize(seed: number): void {
    const rng = createRng(seed);
    const projectionScale = 1 / Math.sqrt(2 * this.config.layers);
    for (const name of PARAMETER_NAMES) {
      const values = this.tensor(name);
      if (MATRICES.has(name)) {
        const std = INIT_STD * (RESIDUAL_PROJECTIONS.has(name) ? projectionScale : 1);
        for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
      } else {
        values.fill(NORM_WEIGHTS.has(name) ? 1 : 0);
      }
    }
    this.zeroGrad();
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }

  /** Runs the model on inputs (B,T). Returns the mean cross-entropy against targets (B,T), or NaN without targets. */
  forward(inputs: Int32Array, targets: Int32Array | null, B: number, T: number): number {
    this.checkBatch(inputs, targets, B, T);
    const backend = this.backend;
    const { vocabSize: V, width: C, heads: NH, layers: L } = this.config;
    const H = this.config.mlpRatio * C;
    const BT = B * T;
    this.inputs.set(inputs.subarray(0, BT));
    if (targets) this.targets.set(targets.subarray(0, BT));

    backend.encoderForward(this.encoded, this.inputs, this.tensor('wte'), this.tensor('wpe'), B, T, C);
    let residual = this.encoded; // (B,T,C), the stream entering layer l
    for (let l = 0; l < L; l++) {
      const p = this.layerParams[l];
      const a = this.layers[l];
      this.normForward(a.ln1, a.ln1Mean, a.ln1Rstd, residual, p.ln1w, p.ln1b, BT);
      backend.matmulForward(a.qkv, a.ln1, p.qkvw, p.qkvb, BT, C, 3 * C);
      backend.attentionForward(a.atty, a.preatt, a.att, a.qkv, B, T, C, NH);
      backend.matmulForward(a.attproj, a.atty, p.attprojw, p.attprojb, BT, C, C);
      backend.residualForward(a.residual2, residual, a.attproj, BT * C);
      this.normForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.residual2, p.ln2w, p.ln2b, BT);
      if (this.config.activation === 'gelu' && backend.matmulGeluForward) {
        backend.matmulGeluForward(a.fch, a.fchActivated, a.ln2, p.fcw, p.fcb, BT, C, H);
      } else {
        backend.matmulForward(a.fch, a.ln2, p.fcw, p.fcb, BT, C, H);
        if (this.config.activation === 'gelu') backend.geluForward(a.fchActivated, a.fch, BT * H);
        else backend.relu2Forward(a.fchActivated, a.fch, BT * H);
      }
      backend.matmulForward(a.fcproj, a.fchActivated, p.fcprojw, p.fcprojb, BT, H, C);
      backend.residualForward(a.residual3, a.residual2, a.fcproj, BT * C);
      residual = a.residual3;
    }
    this.normForward(this.lnf, this.lnfMean, this.lnfRstd, residual, this.tensor('lnfw'), this.tensor('lnfb'), BT);
    backend.matmulForward(this.logits, this.lnf, this.headWeight(this.params), null, BT, C, V);

    this.last = { B, T, hasTargets: targets !== null };
    if (!targets) return Number.NaN;
    return backend.crossEntropyForward(this.losses, this.probs, this.logits, this.targets, BT, V);
  }

  /** Gradients of the last forward's mean loss, accumulated into `grads`. */
  backward(): void {
    const { B, T, hasTargets } = this.last;
    if (!hasTargets) throw new Error('backward() needs a forward() with targets first');
    const backend = this.backend;
    const { vocabSize: V, width: C, heads: NH, layers: L } = this.config;
    const H = this.config.mlpRatio * C;
    const BT = B * T;
    const d = (this.activationGrads ??= this.allocateActivationGrads());
    // Activation gradients are overwritten by the kernel that produces them (backend.ts): no zero-fills, except
    // the residual stream's, which every branch adds into.
    backend.crossEntropyBackward(d.logits, this.probs, this.targets, 1 / BT, BT, V);
    backend.matmulBackward(d.ln, this.headWeight(this.grads), null, d.logits, this.lnf, this.headWeight(this.params), BT, C, V);
    // One buffer carries the gradient of the residual stream down the network. A residual add passes its
    // gradient unchanged to both inputs, so each branch reads d.residual as its output gradient and the
    // branch's norm backward accumulates the branch's contribution into it.
    zero(d.residual, BT * C);
    this.normBackward(d.residual, this.gradient('lnfw'), this.gradient('lnfb'), d.ln, this.layers[L - 1].residual3,
      this.tensor('lnfw'), this.lnfMean, this.lnfRstd, BT);
    for (let l = L - 1; l >= 0; l--) {
      const p = this.layerParams[l];
      const g = this.layerGrads[l];
      const a = this.layers[l];
      const residual = l > 0 ? this.layers[l - 1].residual3 : this.encoded;
      // MLP branch: residual3 = residual2 + fcproj(activation(fc(ln2(residual2))))
      if (this.config.activation === 'gelu' && backend.matmulBackwardGelu) {
        backend.matmulBackwardGelu(d.fch, g.fcprojw, g.fcprojb, d.residual, a.fchActivated, p.fcprojw, a.fch, BT, H, C);
      } else {
        backend.matmulBackward(d.fchActivated, g.fcprojw, g.fcprojb, d.residual, a.fchActivated, p.fcprojw, BT, H, C);
        if (this.config.activation === 'gelu') backend.geluBackward(d.fch, a.fch, d.fchActivated, BT * H);
        else backend.relu2Backward(d.fch, a.fch, d.fchActivated, BT * H);
      }
      backend.matmulBackward(d.ln, g.fcw, g.fcb, d.fch, a.ln2, p.fcw, BT, C, H);
      this.normBackward(d.residual, g.ln2w, g.ln2b, d.ln, a.residual2, p.ln2w, a.ln2Mean, a.ln2Rstd, BT);
      // attention branch: residual2 = residual + attproj(attention(qkv(ln1(residual))))
      backend.matmulBackward(d.atty, g.attprojw, g.attprojb, d.residual, a.atty, p.attprojw, BT, C, C);
      backend.attentionBackward(d.qkv, d.preatt, d.att, d.atty, a.qkv, a.att, B, T, C, NH);
      backend.matmulBackward(d.ln, g.qkvw, g.qkvb, d.qkv, a.ln1, p.qkvw, BT, C, 3 * C);
      this.normBackward(d.residual, g.ln1w, g.ln1b, d.ln, residual, p.ln1w, a.ln1Mean, a.ln1Rstd, BT);
    }
    backend.encoderBackward(this.gradient('wte'), this.gradient('wpe'), d.residual, this.inputs, B, T, C);
  }

  /** (V) softmax of the last forward's logits at batch row b, position t (a fresh array). */
  probabilities(b: number, t: number): Float32Array {
    const { B, T } = this.last;
    if (!(Number.isInteger(b) && b >= 0 && b < B && Number.isInteger(t) && t >= 0 && t < T)) {
      throw new RangeError(`probabilities(${b}, ${t}) is outside the last forward's ${B}x${T}`);
    }
    const V = this.config.vocabSize;
    const row = (b * T + t) * V;
    let maxLogit = -Infinity;
    for (let i = 0; i < V; i++) maxLogit = Math.max(maxLogit, this.logits[row + i]);
    const result = new Float32Array(V);
    let expSum = 0;
    for (let i = 0; i < V; i++) expSum += Math.exp(this.logits[row + i] - maxLogit);
    for (let i = 0; i < V; i++) result[i] = Math.exp(this.logits[row + i] - maxLogit) / expSum;
    return result;
  }

  private normForward(out: F, mean: F, rstd: F, inp: F, weight: F, bias: F, BT: number): void {
    if (this.config.norm === 'layernorm') this.backend.layernormForward(out, mean, rstd, inp, weight, bias, BT, this.config.width);
    else this.backend.rmsnormForward(out, rstd, inp, weight, BT, this.config.width);
  }

  private normBackward(dInp: F, dWeight: F, dBias: F, dOut: F, inp: F, weight: F, mean: F, rstd: F, BT: number): void {
    const C = this.config.width;
    if (this.config.norm === 'layernorm') this.backend.layernormBackward(dInp, dWeight, dBias, dOut, inp, weight, mean, rstd, BT, C);
    else this.backend.rmsnormBackward(dInp, dWeight, dOut, inp, weight, rstd, BT, C);
  }

  /** The LM head's (V,C) weight (or its gradient): the token embedding when tied, so its gradient lands in dWte. */
  private headWeight(buffer: F): F {
    const { offset, size } = this.layout.slices[this.config.tiedEmbeddings ? 'wte' : 'lmhead'];
    return buffer.subarray(offset, offset + size) as F;
  }

  private cutLayers(buffer: F): LayerParameters<F>[] {
    const layers: LayerParameters<F>[] = [];
    for (let l = 0; l < this.config.layers; l++) {
      const views = {} as LayerParameters<F>;
      for (const name of LAYER_PARAMETERS) {
        const { offset, size } = this.layout.slices[name];
        const perLayer = size / this.config.layers;
        views[name] = buffer.subarray(offset + l * perLayer, offset + (l + 1) * perLayer) as F;
      }
      layers.push(views);
    }
    return layers;
  }

  private allocateActivationGrads(): ActivationGradients<F> {
    const { batchSize: B, sequenceLength: T } = this.shape;
    const { vocabSize: V, width: C, heads: NH } = this.config;
    const BT = B * T;
    const H = this.config.mlpRatio * C;
    const sizes: Record<keyof ActivationGradients<F>, number> = {
      residual: BT * C, ln: BT * C, qkv: BT * 3 * C, atty: BT * C, preatt: B * NH * T * T, att: B * NH * T * T,
      fch: BT * H, fchActivated: BT * H, logits: BT * V,
    };
    return cut(this.allocate(Object.values(sizes).reduce((sum, size) => sum + size, 0)), sizes);
  }

  private checkBatch(inputs: Int32Array, targets: Int32Array | null, B: number, T: number): void {
    const { batchSize, sequenceLength } = this.shape;
    if (!(Number.isInteger(B) && B >= 1 && B <= batchSize && Number.isInteger(T) && T >= 1 && T <= sequenceLength)) {
      throw new RangeError(`batch ${B}x${T} does not fit the model's buffers (${batchSize}x${sequenceLength})`);
    }
    const V = this.config.vocabSize;
    for (const [label, tokens] of [['inputs', inputs], ['targets', targets]] as const) {
      if (tokens === null) continue;
      if (tokens.length < B * T) throw new RangeError(`${label} hold ${tokens.length} tokens, fewer than ${B}x${T}`);
      for (let i = 0; i < B * T; i++) {
        if (!(tokens[i] >= 0 && tokens[i] < V)) throw new RangeError(`${label}[${i}] = ${tokens[i]} is not a token id below ${V}`);
      }
    }
  }
}

/** Cuts consecutive views of the given sizes from the start of a buffer. */
function cut<F extends Floats, K extends string>(buffer: F, sizes: Record<K, number>): Record<K, F> {
  const views = {} as Record<K, F>;
  let offset = 0;
  for (const name of Object.keys(sizes) as K[]) {
    views[name] = buffer.subarray(offset, offset + sizes[name]) as F;
    offset += sizes[name];
  }
  return views;
}

function zero(buffer: Floats, length: number): void {
  buffer.fill(0, 0, length);
}
