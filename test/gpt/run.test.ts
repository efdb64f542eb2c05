import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { splitCorpus, writeSplits, loadMobyDick } from '../../src/gpt/data.js';
import { evaluateCheckpoint } from '../../src/gpt/evaluate.js';

const run = promisify(execFile);

async function runEntry(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [resolve('bin/run-ts.js'), resolve('src/gpt/run.ts'), ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Every file a module pulls in, following relative imports; bare specifiers are collected separately. */
function importClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\('([^']+)'\)/g)) {
      const specifier = match[1] ?? match[2];
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier.startsWith('node:') ? 'node:' : specifier);
    }
  };
  visit(resolve(entry));
  return { files, packages };
}

describe('src/gpt/run.ts, the sandboxed entry', () => {
  it('depends on src/gpt, zod, the kernel toolchain and node builtins only', () => {
    const { files, packages } = importClosure('src/gpt/run.ts');
    for (const file of files) expect(relative(resolve('src/gpt'), file).startsWith('..')).toBe(false);
    expect([...packages].filter((name) => !['node:', 'zod', 'wabt'].includes(name))).toEqual([]);
  });

  it('the trusted evaluator stays on src/gpt: the reference kernels and the lab\'s own native ones, nothing a config picks', () => {
    const { files } = importClosure('src/gpt/evaluate.ts');
    const names = [...files].map((file) => relative(resolve('src/gpt'), file));
    expect(names.every((name) => !name.startsWith('..'))).toBe(true);
    expect(names.filter((name) => /wasm|create-backend/.test(name))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['backend-ts.ts', 'backend-native.ts', 'native/library.ts']));
  });

  it('trains from train.txt/val.txt, writes the checkpoint and prints a key: value summary', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'successor-run-'));
    writeSplits(join(directory, 'data'), splitCorpus(loadMobyDick()), ['train', 'val']);
    writeFileSync(join(directory, 'config.json'), JSON.stringify({
      model: { width: 8, heads: 2, layers: 1, contextLength: 16 }, batchSize: 4, maxSteps: 20, evalInterval: 10, evalTokens: 128,
    }));
    const result = await runEntry(['--config', join(directory, 'config.json'), '--data-dir', join(directory, 'data'), '--out', join(directory, 'out')]);
    expect(result.code).toBe(0);
    const summary = Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split(': ')));
    expect(Object.keys(summary)).toEqual(expect.arrayContaining(['steps', 'tokens', 'seconds', 'tokens_per_second', 'train_loss', 'val_loss', 'reached_target']));
    expect(summary).toMatchObject({ steps: '20', tokens: String(20 * 4 * 16), reached_target: 'false' });
    expect(readdirSync(join(directory, 'out')).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'train-state.json']);
    expect(result.stderr).toMatch(/^kernels: .+\nstep 10\/20 loss /);
    // the harness's view: the reference evaluator on the same val tokens agrees with the printed val loss
    const val = readFileSync(join(directory, 'data', 'val.txt'), 'utf8');
    expect(evaluateCheckpoint(join(directory, 'out'), val, { maxTokens: 128 }).lossNats).toBeCloseTo(Number(summary.val_loss), 4);
  });

  it('bad input: exit 2 with one line, nothing written', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'successor-run-bad-'));
    writeFileSync(join(directory, 'config.json'), JSON.stringify({ learningRate: -1 }));
    const out = join(directory, 'out');
    const cases: Array<[string[], RegExp]> = [
      [['--config', join(directory, 'config.json'), '--data-dir', directory, '--out', out], /^run: invalid config .*learningRate: Too small/],
      [['--data-dir', join(directory, 'missing'), '--out', out], /^run: cannot read data file .*train\.txt: no such file/],
      [['--out', out], /^run: usage: /],
      [['--frobnicate'], /^run: Unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const result = await runEntry(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(existsSync(out)).toBe(false);
  });
});
