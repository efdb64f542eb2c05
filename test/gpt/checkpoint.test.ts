import { existsSync, mkdirSync, rmSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, loadCheckpoint, saveCheckpoint, tensorEntries, type Checkpoint } from '../../src/gpt/checkpoint.js';
import { ModelConfig, parameterLayout, TrainConfig } from '../../src/gpt/config.js';
import { createRng } from '../../src/gpt/random.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsFormatError } from '../../src/gpt/safetensors.js';

const model = ModelConfig.parse({ vocabSize: 256, contextLength: 8, layers: 2, heads: 2, width: 8 });
const scratch = () => mkdtempSync(join(tmpdir(), 'successor-checkpoint-'));

function randomCheckpoint(config: ModelConfig = model, seed = 1): Checkpoint {
  const rng = createRng(seed);
  const { total } = parameterLayout(config);
  const values = () => Float32Array.from({ length: total }, () => rng.normal());
  return {
    model: config,
    tokenizer: { kind: 'byte' },
    params: values(),
    optimizer: { m: values(), v: values().map(Math.abs), step: 17 },
    trainState: { version: 1, step: 17, tokens: 17 * 64, elapsedSeconds: 1.5, config: TrainConfig.parse({ model: config }) },
  };
}

/** A safetensors file from a hand-written header, for the corruption cases. */
function rawSafetensors(header: unknown, dataBytes: number, headerLengthOverride?: bigint): Buffer {
  const headerBytes = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const file = Buffer.alloc(8 + headerBytes.length + dataBytes);
  file.writeBigUInt64LE(headerLengthOverride ?? BigInt(headerBytes.length), 0);
  headerBytes.copy(file, 8);
  return file;
}

describe('safetensors', () => {
  it('round-trips tensors and metadata, with the data 8-byte aligned', () => {
    const tensors = [
      { name: 'a', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { name: 'b', shape: [1], data: Float32Array.from([-0.5]) },
      { name: 'empty', shape: [0], data: new Float32Array(0) },
    ];
    const file = encodeSafetensors(tensors, { note: 'hi' });
    expect(Number(Buffer.from(file).readBigUInt64LE(0)) % 8).toBe(0);
    const decoded = decodeSafetensors(file);
    expect(decoded.metadata).toEqual({ note: 'hi' });
    for (const tensor of tensors) expect(decoded.tensors.get(tensor.name)).toEqual({ shape: tensor.shape, data: tensor.data });
  });

  it.each([
    ['a file shorter than 8 bytes', Buffer.from([1, 2, 3]), /too short/],
    ['a header length past the end', rawSafetensors({}, 0, 10_000n), /header length 10000 does not fit/],
    ['a header that is not JSON', rawSafetensors('{"a": [', 0), /not valid UTF-8 JSON/],
    ['a header that is an array', rawSafetensors('[1, 2]', 0), /not a JSON object/],
    ['dtype F16', rawSafetensors({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4), /dtype "F16", only F32/],
    ['offsets that disagree with the shape', rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4), /needs 8 bytes/],
    ['a gap between tensors', rawSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /starts at byte 4, expected 0/],
    ['trailing bytes', rawSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), /data section is 8 bytes but the tensors cover 4/],
    ['a negative dimension', rawSafetensors({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, 0), /invalid shape/],
    ['non-string metadata', rawSafetensors({ __metadata__: { step: 3 } }, 0), /__metadata__.step is not a string/],
  ])('rejects %s', (_, file, message) => {
    expect(() => decodeSafetensors(file)).toThrow(SafetensorsFormatError);
    expect(() => decodeSafetensors(file)).toThrow(message);
  });

  it('rejects a truncated file', () => {
    const file = encodeSafetensors([{ name: 'a', shape: [4], data: new Float32Array(4) }]);
    expect(() => decodeSafetensors(file.subarray(0, file.length - 3))).toThrow(/ends at byte 16, past the 13-byte data section/);
  });
});

describe('checkpoint tensors', () => {
  it('uses nanoGPT names and (out, in) shapes, per layer', () => {
    const names = new Map(tensorEntries(model).map((entry) => [entry.name, entry.shape]));
    expect(names.get('transformer.wte.weight')).toEqual([256, 8]);
    expect(names.get('transformer.wpe.weight')).toEqual([8, 8]);
    expect(names.get('transformer.h.1.attn.c_attn.weight')).toEqual([24, 8]);
    expect(names.get('transformer.h.1.attn.c_attn.bias')).toEqual([24]);
    expect(names.get('transformer.h.0.mlp.c_fc.weight')).toEqual([32, 8]);
    expect(names.get('transformer.h.0.mlp.c_proj.weight')).toEqual([8, 32]);
    expect(names.get('transformer.ln_f.bias')).toEqual([8]);
    expect(names.has('lm_head.weight')).toBe(false); // tied
    expect(names.size).toBe(2 + 2 * 12 + 2);
  });

  it('leaves out RMSNorm biases and adds lm_head when untied', () => {
    const names = tensorEntries(ModelConfig.parse({ ...model, norm: 'rmsnorm', tiedEmbeddings: false })).map((entry) => entry.name);
    expect(names.some((name) => name.includes('ln_') && name.endsWith('.bias'))).toBe(false);
    expect(names).toContain('lm_head.weight');
  });

  it('slices the stacked (L, ...) tensors layer by layer', () => {
    const { slices } = parameterLayout(model);
    const layerOne = tensorEntries(model).find((entry) => entry.name === 'transformer.h.1.mlp.c_fc.weight')!;
    expect(layerOne.offset).toBe(slices.fcw.offset + slices.fcw.size / 2);
  });
});

describe('checkpoint directory', () => {
  it('round-trips weights, optimizer and train state exactly', () => {
    for (const config of [model, ModelConfig.parse({ ...model, norm: 'rmsnorm', tiedEmbeddings: false, mlpRatio: 2 })]) {
      const directory = join(scratch(), 'checkpoint');
      const checkpoint = randomCheckpoint(config);
      saveCheckpoint(directory, checkpoint);
      expect(readdirSync(directory).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'train-state.json']);
      expect(loadCheckpoint(directory, { training: true })).toEqual(checkpoint);
      const weightsOnly = loadCheckpoint(directory);
      expect(weightsOnly.params).toEqual(checkpoint.params);
      expect(weightsOnly.optimizer).toBeUndefined();
    }
  });

  it('replaces an existing checkpoint atomically and leaves no temporary files', () => {
    const parent = scratch();
    const directory = join(parent, 'checkpoint');
    saveCheckpoint(directory, randomCheckpoint(model, 1));
    const second = randomCheckpoint(model, 2);
    delete second.optimizer;
    delete second.trainState;
    saveCheckpoint(directory, second);
    expect(loadCheckpoint(directory).params).toEqual(second.params);
    expect(existsSync(join(directory, 'optimizer.safetensors'))).toBe(false); // no stale optimizer from the first
    expect(readdirSync(parent)).toEqual(['checkpoint']);
    // an empty directory made in advance (as a harness would) is fine too
    const prepared = join(parent, 'prepared');
    mkdirSync(prepared);
    saveCheckpoint(prepared, second);
    expect(loadCheckpoint(prepared).params).toEqual(second.params);
  });

  it('keeps the previous checkpoint when a save fails', () => {
    const parent = scratch();
    const directory = join(parent, 'checkpoint');
    const good = randomCheckpoint(model, 1);
    saveCheckpoint(directory, good);
    const bad = { ...randomCheckpoint(model, 2), params: new Float32Array(3) };
    expect(() => saveCheckpoint(directory, bad)).toThrow(/params has 3 values/);
    const broken = randomCheckpoint(model, 3);
    broken.optimizer!.m = new Float32Array(5); // fails while encoding the optimizer file
    expect(() => saveCheckpoint(directory, broken)).toThrow();
    expect(loadCheckpoint(directory, { training: true })).toEqual(good);
    expect(readdirSync(parent)).toEqual(['checkpoint']);
  });

  describe('rejects a damaged checkpoint with one clear line', () => {
    const corrupt = (damage: (directory: string) => void): string => {
      const directory = join(scratch(), 'checkpoint');
      saveCheckpoint(directory, randomCheckpoint());
      damage(directory);
      return directory;
    };
    const rewriteModel = (directory: string, edit: (tensors: Map<string, { shape: number[]; data: Float32Array }>) => void) => {
      const { tensors, metadata } = decodeSafetensors(readFileSync(join(directory, 'model.safetensors')));
      edit(tensors);
      writeFileSync(join(directory, 'model.safetensors'), encodeSafetensors([...tensors].map(([name, tensor]) => ({ name, ...tensor })), metadata));
    };
    const editJson = (directory: string, file: string, edit: (value: any) => void) => {
      const value = JSON.parse(readFileSync(join(directory, file), 'utf8'));
      edit(value);
      writeFileSync(join(directory, file), JSON.stringify(value));
    };

    it.each<[string, (directory: string) => void, RegExp]>([
      ['a truncated weights file', (directory) => {
        const path = join(directory, 'model.safetensors');
        const file = readFileSync(path);
        writeFileSync(path, file.subarray(0, file.length - 100));
      }, /model\.safetensors: tensor '.*' ends at byte \d+, past the \d+-byte data section/],
      ['a bad header length', (directory) => {
        const path = join(directory, 'model.safetensors');
        const file = readFileSync(path);
        file.writeBigUInt64LE(1n << 40n, 0);
        writeFileSync(path, file);
      }, /model\.safetensors: header length \d+ does not fit/],
      ['a header that is not JSON', (directory) => {
        const path = join(directory, 'model.safetensors');
        const file = readFileSync(path);
        file.write('#', 8);
        writeFileSync(path, file);
      }, /model\.safetensors: header is not valid UTF-8 JSON/],
      ['a wrong dtype', (directory) => {
        const path = join(directory, 'model.safetensors');
        const file = readFileSync(path);
        const headerLength = Number(file.readBigUInt64LE(0));
        const header = file.subarray(8, 8 + headerLength).toString().replace('"F32"', '"F64"');
        file.write(header, 8);
        writeFileSync(path, file);
      }, /tensor 'transformer\.wte\.weight' has dtype "F64", only F32 is supported/],
      ['a wrong shape', (directory) => rewriteModel(directory, (tensors) => {
        tensors.set('transformer.h.0.attn.c_attn.weight', { shape: [8, 24], data: tensors.get('transformer.h.0.attn.c_attn.weight')!.data });
      }), /tensor 'transformer\.h\.0\.attn\.c_attn\.weight' has shape \[8,24\], the config needs \[24,8\]/],
      ['a missing tensor', (directory) => rewriteModel(directory, (tensors) => tensors.delete('transformer.h.1.ln_2.bias')),
        /tensor 'transformer\.h\.1\.ln_2\.bias' is missing/],
      ['an extra tensor', (directory) => rewriteModel(directory, (tensors) => tensors.set('lm_head.weight', { shape: [1], data: new Float32Array(1) })),
        /unexpected tensor 'lm_head\.weight'/],
      ['a config that does not match the weights', (directory) => editJson(directory, 'config.json', (config) => { config.model.width = 16; }),
        /model\.safetensors: tensor 'transformer\.wte\.weight' has shape \[256,8\], the config needs \[256,16\]/],
      ['a config with fewer layers than the weights', (directory) => editJson(directory, 'config.json', (config) => { config.model.layers = 1; }),
        /unexpected tensors 'transformer\.h\.1\./],
      ['an invalid config', (directory) => editJson(directory, 'config.json', (config) => { config.model.heads = 3; }),
        /config\.json: model\.heads: heads must divide width/],
      ['an unknown format version', (directory) => editJson(directory, 'config.json', (config) => { config.version = 99; }),
        /config\.json: version: /],
      ['a config.json that is not JSON', (directory) => writeFileSync(join(directory, 'config.json'), '{'), /config\.json: is not valid JSON/],
      ['an empty weights file', (directory) => writeFileSync(join(directory, 'model.safetensors'), ''), /model\.safetensors: file is 0 bytes/],
      ['a missing weights file', (directory) => rmSync(join(directory, 'model.safetensors')), /model\.safetensors: missing$/],
    ])('%s', (_, damage, message) => {
      const directory = corrupt(damage);
      let error: unknown;
      try {
        loadCheckpoint(directory);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message.startsWith(`checkpoint ${directory}: `)).toBe(true);
    });

    it('a checkpoint without optimizer state cannot be resumed', () => {
      const directory = join(scratch(), 'checkpoint');
      const checkpoint = randomCheckpoint();
      delete checkpoint.optimizer;
      delete checkpoint.trainState;
      saveCheckpoint(directory, checkpoint);
      expect(() => loadCheckpoint(directory, { training: true })).toThrow(/optimizer\.safetensors: missing \(the checkpoint cannot be resumed\)/);
    });

    it('a damaged optimizer file', () => {
      const directory = corrupt((path) => {
        const file = join(path, 'optimizer.safetensors');
        writeFileSync(file, readFileSync(file).subarray(0, 200));
      });
      expect(() => loadCheckpoint(directory)).not.toThrow(); // evaluation needs only the weights
      expect(() => loadCheckpoint(directory, { training: true })).toThrow(/optimizer\.safetensors: /);
    });
  });
});
