/**
 * What docs/tasks.md promises a researcher: inside the lab's bubblewrap sandbox a run can compile native code and
 * load it. A copy of src/gpt in a run's workdir (as a task workspace would hold it) builds the native kernels with
 * the system's gcc (visible read-only through /usr) into its workdir, loads them and trains a step; the lab's own
 * cache of the library (which the trusted evaluator loads) is not even visible from inside.
 * Under CI=true a machine where bubblewrap cannot isolate fails this file; elsewhere it is skipped.
 */
import { cpSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNativeLibrary, nativeSettings } from '../../src/gpt/native/library.js';
import { createSandbox, SandboxUnavailableError, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox | null = null;
let unavailable = '';
try {
  sandbox = await createSandbox('required');
} catch (error) {
  if (!(error instanceof SandboxUnavailableError)) throw error;
  unavailable = error.message;
}

const SCRIPT = `
import { existsSync } from 'node:fs';
import { createNativeBackend } from './gpt/backend-native.ts';
import { ModelConfig } from './gpt/config.ts';
import { Gpt } from './gpt/model.ts';
const result = createNativeBackend({ threads: 2 });
if (!result.ok) { console.log(JSON.stringify({ ok: false, reason: result.reason })); process.exit(0); }
const model = new Gpt(ModelConfig.parse({ vocabSize: 32, contextLength: 8, layers: 1, heads: 2, width: 16 }), result.backend, { batchSize: 2, sequenceLength: 8 });
model.initialize(1);
const tokens = Int32Array.from({ length: 16 }, (_, i) => i % 32);
const loss = model.forward(tokens, tokens, 2, 8);
model.backward();
console.log(JSON.stringify({ ok: true, loss, path: result.library.path, compiled: result.library.compiled, labCacheVisible: existsSync(process.env.LAB_CACHE) }));
`;

describe.skipIf(!sandbox && process.env.CI !== 'true')(`native code in a sandboxed run${sandbox ? '' : ` (bubblewrap unavailable: ${unavailable})`}`, () => {
  it('a run compiles the native kernels into its workdir with the system compiler and trains on them', async () => {
    if (!sandbox) throw new Error(`bubblewrap must isolate under CI: ${unavailable}`);
    const workdir = mkdtempSync(join(tmpdir(), 'successor-native-run-'));
    // laid out as the harness lays out a workspace: an ES module package, the lab's node_modules linked in
    cpSync(resolve('src/gpt'), join(workdir, 'gpt'), { recursive: true });
    writeFileSync(join(workdir, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(resolve('node_modules'), join(workdir, 'node_modules'));
    const labCache = nativeSettings().cacheDirectory; // the host's cache of the lab's own library
    loadNativeLibrary(); // so that it exists on the host
    const result = await sandbox.run({
      command: [process.execPath, '--import', resolve('node_modules/tsx/dist/loader.mjs'), '--input-type=module', '-e', SCRIPT],
      workdir,
      readOnlyPaths: [dirname(process.execPath), resolve('node_modules')],
      env: {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: workdir,
        SUCCESSOR_NATIVE_CACHE: join(workdir, '.native'), LAB_CACHE: labCache,
      },
      limits: { wallSeconds: 120, memoryBytes: 1 << 30, processes: 64, fileSizeBytes: 64 << 20, diskBytes: 128 << 20, outputBytes: 64 << 10 },
    });
    expect(result.termination, result.stderr).toBe('exited');
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}');
    expect(report).toMatchObject({ ok: true, compiled: true, labCacheVisible: false });
    expect(Number.isFinite(report.loss)).toBe(true);
    expect(report.path.startsWith(join(workdir, '.native'))).toBe(true);
    expect(existsSync(report.path)).toBe(true);
    expect(existsSync(labCache)).toBe(true);
  }, 180_000);
});
