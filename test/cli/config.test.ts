/**
 * `successor research --config FILE` (JSON or YAML, the run options' one schema, flags typed on the command line
 * win) and `.env` in the working directory (API keys for the lab process), through the real CLI.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnvFile } from '../../src/cli/env-file.js';
import { DEFAULT_GATE } from '../../src/lab/options.js';
import { layerFlags } from '../../src/cli/run-config.js';
import { ROOT, removeTemporaryDirs, runCli, temporaryDir } from './fixtures.js';

afterAll(removeTemporaryDirs);

const SLEEPY = join(ROOT, 'test/fixtures/tasks/sleepy');

describe('research --config', () => {
  it('takes a run\'s options from a YAML file, with the flags typed on the command line winning', { timeout: 600_000 }, () => {
    const work = temporaryDir();
    const home = join(work, 'lab');
    writeFileSync(join(work, 'run.yaml'), [
      `task: ${SLEEPY}`, 'maxExperiments: 1', 'seed: 7', 'sandboxMode: "off"', 'approval: auto', 'gate:', '  repeats: 2', '  alpha: 0.2', '',
    ].join('\n'));
    const result = runCli(['research', '--config', 'run.yaml', '--seed', '9', '--json'], home, { cwd: work, timeoutMs: 580_000 });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    const run = JSON.parse(runCli(['show', summary.runId, '--json'], home, { cwd: work }).stdout);
    expect(run.options).toMatchObject({ task: SLEEPY, maxExperiments: 1, seed: 9, sandboxMode: 'off', budgetSeconds: null, gate: { repeats: 2, alpha: 0.2 } });
    // Defaults the file and flags left alone come from the schema.
    expect(run.options.gate).toMatchObject({ capFactor: DEFAULT_GATE.capFactor, verifyEvery: DEFAULT_GATE.verifyEvery });
  });

  it('names an unknown key, a wrong value and an unreadable file (exit 2, no state); refuses --config with --resume', () => {
    const work = temporaryDir();
    const home = join(work, 'lab');
    writeFileSync(join(work, 'typo.json'), JSON.stringify({ task: SLEEPY, maxExperiments: 1, gate: { alhpa: 0.1 } }));
    writeFileSync(join(work, 'wrong.yaml'), `task: ${SLEEPY}\nmaxExperiments: -3\n`);
    writeFileSync(join(work, 'broken.json'), '{ "task": ');
    for (const [args, message] of [
      [['--config', 'typo.json'], /^successor: --config typo\.json: invalid run options: gate: Unrecognized key: "alhpa"\n$/],
      [['--config', 'wrong.yaml'], /^successor: --config wrong\.yaml: invalid run options: maxExperiments: .*\n$/],
      [['--config', 'broken.json'], /^successor: --config broken\.json is not valid JSON/],
      [['--config', 'missing.yaml'], /^successor: cannot read --config missing\.yaml: ENOENT\n$/],
      [['--config', 'typo.json', '--resume', 'run_000000000000'], /--config starts a new run/],
    ] as Array<[string[], RegExp]>) {
      const result = runCli(['research', ...args], home, { cwd: work });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(runCli(['runs'], home, { cwd: work }).stderr).toMatch(/no lab state/);
  });
});

describe('layering the flags over a file', () => {
  it('a typed flag wins, the file wins over a default, a default fills a gap, one level deep', () => {
    const flags = { seed: 1, parallel: 1, approval: 'auto', gate: { repeats: 3, alpha: 0.05, capFactor: 1.3 } };
    const file = { seed: 7, parallel: 4, task: 'x', gate: { alpha: 0.2, repeats: 5 } };
    expect(layerFlags(file, flags, { seed: true, 'gate.repeats': true })).toEqual({
      task: 'x', seed: 1, parallel: 4, approval: 'auto', gate: { alpha: 0.2, repeats: 3, capFactor: 1.3 },
    });
    expect(layerFlags({}, flags, {})).toEqual(flags);
    expect(layerFlags({ gate: 3 }, flags, {})).toMatchObject({ gate: 3 }); // left for the schema to name
  });
});

describe('.env', () => {
  it('gives the lab process the keys it defines, never over a variable already set', () => {
    const directory = temporaryDir();
    writeFileSync(join(directory, '.env'), 'OPENAI_API_KEY=sk-from-file\nANTHROPIC_API_KEY="from file"\n# a comment\n');
    const environment: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: 'from the shell' };
    expect(loadEnvFile(directory, environment)).toEqual(['OPENAI_API_KEY']);
    expect(environment).toEqual({ ANTHROPIC_API_KEY: 'from the shell', OPENAI_API_KEY: 'sk-from-file' });
    expect(loadEnvFile(temporaryDir(), environment)).toEqual([]);
  });

  it('is read from the working directory by the CLI (doctor names the keys it found, never their values)', { timeout: 120_000 }, () => {
    const work = temporaryDir();
    writeFileSync(join(work, '.env'), 'GEMINI_API_KEY=secret-value-123\n');
    const result = runCli(['doctor', '--json'], join(work, 'lab'), { cwd: work, environment: { GEMINI_API_KEY: undefined, OPENAI_API_KEY: undefined, ANTHROPIC_API_KEY: undefined, GOOGLE_GENERATIVE_AI_API_KEY: undefined, OPENROUTER_API_KEY: undefined } });
    expect(result.code, result.stderr).toBe(0);
    const keys = JSON.parse(result.stdout).checks.find((check: { name: string }) => check.name === 'model keys');
    expect(keys).toMatchObject({ status: 'ok', found: 'GEMINI_API_KEY (from .env)' });
    expect(result.stdout).not.toContain('secret-value-123');
  });
});
