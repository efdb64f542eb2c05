/**
 * `successor audit verify [RUN|DIR]`: proves the journal's audit log untouched. Checks the whole hash chain, replays
 * the log against the state tables (one run's rows when RUN is given), then checks every signed checkpoint
 * (signature, the pinned entry's hash, no truncation below it) with the lab's key, or with `--public-key KEY` on a
 * machine that never had the private key. Given an exported folder (DIR), checks that export the same way, and that
 * a signed checkpoint pins its last entry. Exit 0 with one `ok` line, exit 1 naming the first bad entry. Opens
 * journals read-only, so it is safe while the lab is running and changes nothing.
 * `successor audit checkpoint`: signs the current head now (the lab also does at the end of every run).
 * `successor audit export RUN DIR`: writes the run's proof to DIR (src/journal/audit-export.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RunId } from '../task/ids.js';
import { verifyCheckpoints, writeAuditCheckpoint } from '../journal/audit-checkpoint.js';
import { type ExportVerification, exportRun, isExportFolder, readPublicKey, verifyExport } from '../journal/audit-export.js';
import type { AuditReport, Journal } from '../journal/journal.js';
import { storedSummaryOf } from '../lab/summary.js';
import { isCorruptionCode } from '../journal/errors.js';
import { SuccessorError } from '../task/errors.js';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action, formatNumber, formatRatio } from './common.js';
import { openExistingJournal } from './lab-state.js';

interface VerifyFlags { json?: boolean; publicKey?: string }

export function register(program: Command): void {
  const audit = program.command('audit').description('Inspect, sign and export the journal\'s hash-chained audit log');
  audit
    .command('verify')
    .description('Verify the audit chain and replay it against the journal\'s tables ($SUCCESSOR_HOME/successor.db), or verify an exported folder')
    .argument('[target]', 'a run id: report on its entries and rows only (the chain is still checked end to end); or a folder written by `audit export`')
    .option('--public-key <file>', 'check the signed checkpoints with this public key (PEM) instead of the lab\'s private key')
    .option('--json', 'print the report as one JSON object')
    .action(action((target: string | undefined, flags: VerifyFlags) => (
      target !== undefined && looksLikeFolder(target) ? verifyFolder(resolve(target), flags) : verify(target, flags))));
  audit
    .command('checkpoint')
    .description('Sign the audit log\'s head with the lab\'s key ($SUCCESSOR_KEY_DIR or ~/.config/successor) and save the checkpoint')
    .option('--json', 'print the checkpoint as one JSON object')
    .action(action((options: { json?: boolean }) => checkpoint(options.json ?? false)));
  audit
    .command('export')
    .description('Write a run\'s proof to a folder: its slice of the journal, the signed checkpoints that pin it, and the public key')
    .argument('<run>', 'run id (run_...)')
    .argument('<dir>', 'an empty or missing folder')
    .option('--json', 'print what was written as one JSON object')
    .action(action((run: string, dir: string, flags: { json?: boolean }) => exportFolder(run, resolve(dir), flags.json ?? false)));
}

const looksLikeFolder = (target: string): boolean => !RunId.safeParse(target).success && existsSync(target) && statSync(target).isDirectory();

function checkpoint(json: boolean): number {
  const journal = openExistingJournal({ writable: true });
  try {
    const saved = writeAuditCheckpoint(journal);
    if (json) process.stdout.write(`${JSON.stringify({ path: journal.path, ...saved })}\n`);
    else process.stdout.write(`checkpoint: entry ${saved.seq}, head ${saved.hash}, key ${saved.keyId}\n`);
    return EXIT_OK;
  } finally {
    journal.close();
  }
}

function exportFolder(runText: string, directory: string, json: boolean): number {
  const runId = parseRunId(runText);
  const journal = openExistingJournal();
  try {
    const result = exportRun(journal, runId, directory);
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const { manifest } = result;
      process.stdout.write(`exported ${runId} to ${directory}: entries 1-${manifest.headSeq} (${manifest.runEntries} of this run), ${result.checkpoints} signed checkpoint${result.checkpoints === 1 ? '' : 's'}, key ${manifest.keyId}\n`);
      process.stdout.write(`verify anywhere with: successor audit verify ${directory} --public-key LAB_PUBLIC_KEY.pem (this lab's key id: ${manifest.keyId})\n`);
    }
    return EXIT_OK;
  } finally {
    journal.close();
  }
}

/** The chain-and-replay report joined with the checkpoint report: the first bad entry of either. */
function fullReport(journal: Journal, runId: RunId | undefined, publicKeyPath: string | undefined): AuditReport & { checkpoints: number; keyId?: string } {
  const key = publicKeyPath === undefined ? undefined : readPublicKey(publicKeyPath);
  const report = journal.verifyAudit({ runId });
  const signed = verifyCheckpoints(journal, process.env, { publicKey: key?.publicKey });
  const bad = [report.firstBad, signed.firstBad].filter((item) => item !== undefined).sort((left, right) => left.seq - right.seq)[0];
  const { firstBad: _chainBad, ...rest } = report;
  const extra = { checkpoints: signed.checkpoints, ...(key ? { keyId: key.keyId } : {}) };
  return bad === undefined ? { ...rest, ok: true, ...extra } : { ...rest, ok: false, firstBad: bad, ...extra };
}

function verify(runText: string | undefined, flags: VerifyFlags): number {
  const runId = runText === undefined ? undefined : parseRunId(runText);
  const journal = openExistingJournal();
  try {
    const report = fullReport(journal, runId, flags.publicKey);
    if (runId !== undefined && report.entries === 0 && journal.getRun(runId) === undefined) {
      throw new UsageError(`no run ${runId} in ${journal.path}`);
    }
    const scope = runId === undefined ? '' : ` run ${runId}:`;
    if (flags.json) process.stdout.write(`${JSON.stringify({ path: journal.path, ...(runId ? { runId } : {}), ...report })}\n`);
    else if (report.ok) {
      const signed = report.checkpoints === 0 ? '' : `, ${report.checkpoints} signed checkpoint${report.checkpoints === 1 ? '' : 's'}${report.keyId ? ` (key ${report.keyId})` : ''}`;
      process.stdout.write(`audit ok:${scope} ${report.entries} entries, head ${report.headHash}${signed}\n`);
    }
    else process.stdout.write(`audit FAILED:${scope} entry ${report.firstBad?.seq}: ${report.firstBad?.reason}\n`);
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    return failedVerification(journal.path, () => { throw error; });
  } finally {
    journal.close();
  }
}

/** A dropped table is a failed verification too (exit 1), not an internal error; the family's errors keep their meaning. */
function failedVerification<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof SuccessorError || isCorruptionCode((error as { code?: unknown }).code)) throw error;
    throw new CommandFailure(`cannot verify ${path}: ${(error as Error).message}`);
  }
}

function verifyFolder(directory: string, flags: VerifyFlags): number {
  if (!isExportFolder(directory)) throw new UsageError(`${directory} is a folder but not an audit export (no manifest.json); give a run id, or a folder written by \`successor audit export\``);
  const result = failedVerification(directory, () => verifyExport(directory, flags.publicKey));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ path: directory, ...result, run: result.ok ? runFacts(directory, result) : null })}\n`);
    return result.ok ? EXIT_OK : EXIT_FAILURE;
  }
  if (!result.ok) {
    process.stdout.write(`audit FAILED: export of ${result.runId}: entry ${result.firstBad?.seq}: ${result.firstBad?.reason}\n`);
    return EXIT_FAILURE;
  }
  const facts = runFacts(directory, result);
  process.stdout.write(`audit ok: export of run ${result.runId}: ${result.entries} entries (${result.runEntries} of this run), head ${result.headHash}, pinned by a checkpoint signed ${result.signedAt} with key ${result.keyId}\n`);
  process.stdout.write(`run: ${facts.task}, researcher ${facts.researcher}, ${facts.status}; ${facts.experiments} experiments; best ${facts.bestScore === null ? '-' : formatNumber(facts.bestScore)}, gain ${facts.gain === null ? '-' : `${formatRatio(facts.gain)}x`}\n`);
  if (result.keySource === 'export') {
    process.stderr.write(`note: checked with the public key shipped in the folder: compare its id ${result.keyId} with the key id the lab publishes, or give --public-key with a copy you trust\n`);
  }
  return EXIT_OK;
}

/** What the verified export says about its run (read after verification, from the same file). */
function runFacts(directory: string, result: ExportVerification) {
  const journal = openExistingJournal({}, resolve(directory, 'successor.db'));
  try {
    const run = journal.getRun(result.runId as RunId)!;
    const summary = storedSummaryOf(run);
    return {
      task: run.task, researcher: run.researcher, status: run.status, experiments: journal.listExperiments(run.id).length,
      bestScore: summary.bestScore ?? null, gain: summary.gain ?? null,
    };
  } finally {
    journal.close();
  }
}

function parseRunId(text: string): RunId {
  const parsed = RunId.safeParse(text);
  if (!parsed.success) throw new UsageError(`'${text}' is not a run id (a run id looks like run_xxxxxxxx)`);
  return parsed.data;
}
