/**
 * `successor audit verify [RUN]`: proves the journal's audit log untouched. Checks the whole hash chain, replays
 * the log against the state tables (one run's rows when RUN is given), then checks every signed checkpoint
 * (signature, the pinned entry's hash, no truncation below it). Exit 0 with one `ok` line, exit 1 naming the
 * first bad entry. Opens the journal read-only, so it is safe while the lab is running.
 * `successor audit checkpoint`: signs the current head now (the lab also does at the end of every run).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { RunId } from '../task/ids.js';
import { verifyCheckpoints, writeAuditCheckpoint } from '../journal/audit-checkpoint.js';
import { openJournal, type AuditReport, type Journal } from '../journal/journal.js';
import { journalPath } from '../journal/paths.js';
import { CommandFailure, EXIT_FAILURE, EXIT_OK, UsageError, action } from './common.js';

export function register(program: Command): void {
  const audit = program.command('audit').description('Inspect the journal\'s hash-chained audit log');
  audit
    .command('verify')
    .description('Verify the audit chain and replay it against the journal\'s tables ($SUCCESSOR_HOME/successor.db)')
    .argument('[run]', 'only report on this run\'s entries and rows (the chain is still checked end to end)')
    .option('--json', 'print the report as one JSON object')
    .action(action((run: string | undefined, options: { json?: boolean }) => verify(run, options.json ?? false)));
  audit
    .command('checkpoint')
    .description('Sign the audit log\'s head with the lab\'s key ($SUCCESSOR_KEY_DIR or ~/.config/successor) and save the checkpoint')
    .option('--json', 'print the checkpoint as one JSON object')
    .action(action((options: { json?: boolean }) => checkpoint(options.json ?? false)));
}

function checkpoint(json: boolean): number {
  const path = journalPath();
  if (!existsSync(path)) throw new CommandFailure(`no journal at ${path} (set SUCCESSOR_HOME, or run the lab here first)`);
  const journal = openJournal(path);
  try {
    const saved = writeAuditCheckpoint(journal);
    if (json) process.stdout.write(`${JSON.stringify({ path, ...saved })}\n`);
    else process.stdout.write(`checkpoint: entry ${saved.seq}, head ${saved.hash}, key ${saved.keyId}\n`);
    return EXIT_OK;
  } finally {
    journal.close();
  }
}

/** The chain-and-replay report joined with the checkpoint report: the first bad entry of either. */
function fullReport(journal: Journal, runId: RunId | undefined): AuditReport & { checkpoints: number } {
  const report = journal.verifyAudit({ runId });
  const signed = verifyCheckpoints(journal);
  const bad = [report.firstBad, signed.firstBad].filter((item) => item !== undefined).sort((left, right) => left.seq - right.seq)[0];
  const { firstBad: _chainBad, ...rest } = report;
  return bad === undefined ? { ...rest, ok: true, checkpoints: signed.checkpoints } : { ...rest, ok: false, firstBad: bad, checkpoints: signed.checkpoints };
}

function verify(runText: string | undefined, json: boolean): number {
  const runId = runText === undefined ? undefined : parseRunId(runText);
  const path = journalPath();
  if (!existsSync(path)) throw new CommandFailure(`no journal at ${path} (set SUCCESSOR_HOME, or run the lab here first)`);
  const journal = openReadonly(path);
  try {
    const report = fullReport(journal, runId);
    if (runId !== undefined && report.entries === 0 && journal.getRun(runId) === undefined) {
      throw new UsageError(`no run ${runId} in ${path}`);
    }
    const scope = runId === undefined ? '' : ` run ${runId}:`;
    if (json) process.stdout.write(`${JSON.stringify({ path, ...(runId ? { runId } : {}), ...report })}\n`);
    else if (report.ok) {
      const signed = report.checkpoints === 0 ? '' : `, ${report.checkpoints} signed checkpoint${report.checkpoints === 1 ? '' : 's'}`;
      process.stdout.write(`audit ok:${scope} ${report.entries} entries, head ${report.headHash}${signed}\n`);
    }
    else process.stdout.write(`audit FAILED:${scope} entry ${report.firstBad?.seq}: ${report.firstBad?.reason}\n`);
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    // A dropped table or a damaged file is a failed verification too, not an internal error.
    if (error instanceof UsageError) throw error;
    throw new CommandFailure(`cannot verify ${path}: ${(error as Error).message}`);
  } finally {
    journal.close();
  }
}

function openReadonly(path: string): Journal {
  try {
    return openJournal(path, { readonly: true });
  } catch (error) {
    throw new CommandFailure(`cannot open ${path}: ${(error as Error).message}`);
  }
}

function parseRunId(text: string): RunId {
  const parsed = RunId.safeParse(text);
  if (!parsed.success) throw new UsageError(`'${text}' is not a run id (a run id looks like run_xxxxxxxx)`);
  return parsed.data;
}
