/**
 * A trusted script whose workdir lies inside the lab's checkout, as it does with the default lab home (a clone's
 * `.successor/`, whose staged and scratch folders are 0700): in the bubblewrap sandbox, run as an unprivileged uid
 * by a root lab, it can still spawn a child in its own cwd (tsx's esbuild did not: `npm start` on a fresh clone
 * failed with `spawn .../esbuild EACCES`), and it sees the checkout but not the lab's state.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, SandboxUnavailableError, type Sandbox } from '../../src/sandbox/index.js';
import { PROJECT_ROOT, checkoutMounts, runTrustedScript } from '../../src/task/trusted-script.js';

let sandbox: Sandbox | null = null;
try {
  sandbox = await createSandbox('required');
} catch (error) {
  if (!(error instanceof SandboxUnavailableError)) throw error;
}

// A lab home inside the checkout, removed afterwards (its name is one no checkout file has).
const labHome = mkdtempSync(join(PROJECT_ROOT, '.successor-trusted-test-'));
afterAll(() => rmSync(labHome, { recursive: true, force: true }));

describe('a trusted script with its workdir inside the checkout', () => {
  it('mounts the checkout without the entry that holds the workdir', () => {
    const mounts = checkoutMounts(join(labHome, 'staged', 'run'));
    expect(mounts).toContain(join(PROJECT_ROOT, 'node_modules'));
    expect(mounts).toContain(join(PROJECT_ROOT, 'package.json'));
    expect(mounts).not.toContain(labHome);
    expect(mounts).not.toContain(PROJECT_ROOT);
    expect(checkoutMounts('/somewhere/else')).toEqual([PROJECT_ROOT]);
  });

  it.runIf(sandbox !== null || process.env.CI === 'true')('spawns a child in its cwd under a 0700 lab folder, and cannot read the journal', { timeout: 120_000 }, async () => {
    expect(sandbox, 'bubblewrap must isolate under CI').not.toBeNull();
    const staged = join(labHome, 'staged');
    mkdirSync(staged);
    chmodSync(staged, 0o700);
    writeFileSync(join(labHome, 'successor.db'), 'the journal');
    const workdir = join(staged, 'run');
    mkdirSync(workdir);
    // The script's folder is mounted, as a harness's is; the journal is not under it.
    const harness = join(labHome, 'harness');
    mkdirSync(harness);
    const script = join(harness, 'spawn.mjs');
    writeFileSync(script, [
      "import { spawnSync } from 'node:child_process';",
      "import { existsSync } from 'node:fs';",
      "const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(process.cwd())'], { cwd: process.cwd(), encoding: 'utf8' });",
      "process.stdout.write(JSON.stringify({ error: child.error?.code ?? null, cwd: child.stdout, journal: existsSync(process.argv[2]) }));",
    ].join('\n'));
    const result = await runTrustedScript(script, {}, 60, { sandbox: sandbox!, workdir, args: [join(labHome, 'successor.db')] });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ error: null, cwd: workdir, journal: false });
  });
});
