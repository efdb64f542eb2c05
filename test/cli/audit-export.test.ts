/**
 * Shareable proof through the real CLI: `audit export RUN DIR` on the lab's machine, then `audit verify DIR` on
 * "another machine" — a fresh HOME, key dir and lab home that never held the private key — with the lab's public key.
 * It passes untouched; an edited entry, a re-signed checkpoint or the wrong key fails it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAuditCheckpoint } from '../../src/journal/audit-checkpoint.js';
import { llmLab, removeTemporaryDirs, runCli, temporaryDir } from './fixtures.js';

afterAll(removeTemporaryDirs);

/**
 * The lab's machine: a lab home with an llm run and a checkpoint signed with a key outside it, then one more entry:
 * the lab's (a cache entry: not exported, since no checkpoint pins it) or, with `runAfterCheckpoint`, the run's own
 * (then no checkpoint covers the run).
 */
function labMachine(runAfterCheckpoint = false) {
  const home = temporaryDir('successor-lab-');
  const keys = temporaryDir('successor-keys-');
  const lab = llmLab(home);
  writeAuditCheckpoint(lab.journal, { SUCCESSOR_KEY_DIR: keys });
  if (runAfterCheckpoint) lab.journal.appendEvent(lab.runId, 'note', { text: 'after the checkpoint' });
  else lab.journal.setCache('after-the-checkpoint', 1);
  lab.journal.close();
  return { home, keys, lab, environment: { SUCCESSOR_KEY_DIR: keys } };
}

/** Another machine: its own HOME, key dir and lab home, none of which ever held the lab's key. */
function otherMachine() {
  const root = temporaryDir('successor-verifier-');
  mkdirSync(join(root, 'home'));
  return { root, run: (args: string[]) => runCli(args, join(root, 'lab'), { cwd: root, environment: { HOME: join(root, 'home'), SUCCESSOR_KEY_DIR: join(root, 'keys') } }) };
}

describe('successor audit export and verify', () => {
  it('exports a run\'s proof that verifies on a machine without the private key', { timeout: 300_000 }, () => {
    const { home, environment, lab } = labMachine();
    const proof = join(temporaryDir(), 'proof');
    const exported = runCli(['audit', 'export', lab.runId, proof, '--json'], home, { environment });
    expect(exported.code, exported.stderr).toBe(0);
    const result = JSON.parse(exported.stdout);
    expect(result.manifest).toMatchObject({ format: 'successor.audit-export.v1', runId: lab.runId });
    expect(readdirSync(proof).sort()).toEqual(['audit-checkpoints.jsonl', 'manifest.json', 'public-key.pem', 'successor.db']);
    for (const name of readdirSync(proof)) expect(readFileSync(join(proof, name)).toString('latin1')).not.toMatch(/PRIVATE KEY/);

    const verifier = otherMachine();
    const trusted = join(verifier.root, 'lab-key.pem'); // the key the verifier got from the lab through a channel they trust
    writeFileSync(trusted, readFileSync(join(proof, 'public-key.pem')));
    const verified = verifier.run(['audit', 'verify', proof, '--public-key', trusted]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`^audit ok: export of run ${lab.runId}: \\d+ entries \\(\\d+ of this run\\), head [0-9a-f]{64}, pinned by a checkpoint signed .* with key ${result.manifest.keyId}\\n`));
    expect(verified.stdout).toMatch(/run: sleepy, researcher llm, completed; 2 experiments/);
    const json = JSON.parse(verifier.run(['audit', 'verify', proof, '--public-key', trusted, '--json']).stdout);
    expect(json).toMatchObject({ ok: true, runId: lab.runId, keySource: 'given', keyId: result.manifest.keyId, run: { experiments: 2, status: 'completed' } });
    expect(json.entries).toBe(result.manifest.headSeq);
    // With the key shipped in the folder it verifies too, and says what that key proves.
    const shipped = verifier.run(['audit', 'verify', proof]);
    expect(shipped.code).toBe(0);
    expect(shipped.stderr).toMatch(/checked with the public key shipped in the folder: compare its id/);
    // The exported folder is a lab home: its runs can be read there, and nothing was written on the verifier's side.
    const shown = runCli(['show', lab.runId, '--json'], proof, { cwd: verifier.root });
    expect(JSON.parse(shown.stdout).usage).toMatchObject({ calls: 3 });
    expect(existsSync(join(verifier.root, 'keys'))).toBe(false);
    expect(readdirSync(join(verifier.root, 'home'))).toEqual([]);
  });

  it('fails an edited entry and the wrong public key (exit 1); a file that is not a key is bad input (exit 2)', { timeout: 300_000 }, () => {
    const { home, environment, lab } = labMachine();
    const proof = join(temporaryDir(), 'proof');
    expect(runCli(['audit', 'export', lab.runId, proof], home, { environment }).code).toBe(0);
    const verifier = otherMachine();
    const key = join(proof, 'public-key.pem');

    const edited = join(verifier.root, 'edited');
    cpSync(proof, edited, { recursive: true });
    const db = new Database(join(edited, 'successor.db'));
    db.prepare("UPDATE audit SET payload = replace(payload, 'halve the delay', 'triple the speed') WHERE action = 'experiment.create'").run();
    db.prepare("UPDATE experiments SET description = replace(description, 'halve the delay', 'triple the speed')").run();
    db.close();
    const tampered = verifier.run(['audit', 'verify', edited, '--public-key', key]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^audit FAILED: export of run_\w+: entry \d+: hash mismatch: the entry was edited\n$/);

    const stranger = join(verifier.root, 'stranger.pem');
    writeFileSync(stranger, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const wrongKey = verifier.run(['audit', 'verify', proof, '--public-key', stranger]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toMatch(/names key [0-9a-f]{16}, not the given public key [0-9a-f]{16} \(forged\)/);

    const notAKey = verifier.run(['audit', 'verify', proof, '--public-key', join(proof, 'manifest.json')]);
    expect(notAKey.code).toBe(2);
    expect(notAKey.stderr).toMatch(/is not a PEM public key/);
  });

  it('verifies the lab\'s own journal with --public-key where the private key is not, and refuses without it', { timeout: 300_000 }, () => {
    const { home, environment, lab } = labMachine();
    const proof = join(temporaryDir(), 'proof');
    expect(runCli(['audit', 'export', lab.runId, proof], home, { environment }).code).toBe(0);
    const noKey = { SUCCESSOR_KEY_DIR: temporaryDir() };
    const without = runCli(['audit', 'verify'], home, { environment: noKey });
    expect(without.code).toBe(1);
    expect(without.stdout).toMatch(/cannot be checked: no audit key at .* \(give --public-key KEY/);
    const withKey = runCli(['audit', 'verify', '--public-key', join(proof, 'public-key.pem')], home, { environment: noKey });
    expect(withKey.code, withKey.stdout).toBe(0);
    expect(withKey.stdout).toMatch(/^audit ok: \d+ entries, head [0-9a-f]{64}, 1 signed checkpoint \(key [0-9a-f]{16}\)\n$/);
  });

  it('refuses to export a run no checkpoint covers, a folder that is not empty, and an unknown run', { timeout: 300_000 }, () => {
    const { home, environment, lab } = labMachine(true);
    const target = temporaryDir();
    const uncovered = runCli(['audit', 'export', lab.runId, join(target, 'proof')], home, { environment });
    expect(uncovered.code).toBe(1);
    expect(uncovered.stderr).toMatch(/no signed checkpoint covers run run_\w+'s last entry \(\d+\): run `successor audit checkpoint`, then export again/);
    expect(existsSync(join(target, 'proof'))).toBe(false);
    writeFileSync(join(target, 'occupied'), 'x');
    expect(runCli(['audit', 'export', lab.runId, target], home, { environment }).stderr).toMatch(/is not empty/);
    expect(runCli(['audit', 'export', 'run_000000000000', join(target, 'other')], home, { environment }).code).toBe(2);
  });
});
