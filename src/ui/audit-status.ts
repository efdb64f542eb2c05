/**
 * The audit log's verification status per run, as the run page shows it: verified (up to audit entry N), failed
 * (with the first bad entry), or being checked. Each check runs in a worker thread (audit-worker.ts) and its
 * result is cached until the journal moves on; one check at a time per run, and a page asking again while the
 * lab writes gets the last result marked stale instead of a new check per request.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditReport } from '../journal/journal.js';
import type { RunId } from '../task/ids.js';

export interface AuditStatus {
  state: 'verified' | 'failed' | 'checking' | 'error';
  /** The audit entry the last finished check covered (0 before any). */
  checkedSeq: number;
  /** True when the journal has moved on since the last finished check (a new one is running or queued). */
  stale: boolean;
  report: AuditReport | null;
  error?: string;
}

// Node 20 does not apply tsx's loader hooks to a worker's entry: a tiny CommonJS bootstrap imports it through tsx.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((api) => api.tsImport(workerData.entry, workerData.entry));
`;

function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const packagePath = require.resolve('tsx/package.json');
  const exports = JSON.parse(readFileSync(packagePath, 'utf8')).exports as Record<string, { import: { default: string } }>;
  return new URL(exports['./esm/api'].import.default, pathToFileURL(packagePath)).href;
}

function verifyInWorker(path: string, runId: RunId): Promise<{ report: AuditReport; seq: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { tsxApi: tsxApiUrl(), entry: new URL('./audit-worker.ts', import.meta.url).href, path, runId },
    });
    worker.unref();
    worker.once('message', (message: { report?: AuditReport; seq?: number; error?: string }) => {
      if (message.report && message.seq !== undefined) resolve({ report: message.report, seq: message.seq });
      else reject(new Error(message.error ?? 'the audit worker sent nothing'));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the audit worker exited with code ${code}`)));
  });
}

interface Entry { result: { report: AuditReport; seq: number } | null; error?: string; running: Promise<void> | null }

export class AuditStatusCache {
  private readonly entries = new Map<RunId, Entry>();

  constructor(private readonly journalPath: string) {}

  /** The cached status for `runId`; starts a check when the journal moved past the last one (`currentSeq`). */
  status(runId: RunId, currentSeq: number): AuditStatus {
    const entry = this.entries.get(runId) ?? { result: null, running: null };
    this.entries.set(runId, entry);
    const checkedSeq = entry.result?.seq ?? 0;
    const stale = entry.result === null || checkedSeq < currentSeq;
    if (stale && entry.running === null) {
      entry.running = verifyInWorker(this.journalPath, runId)
        .then((result) => { entry.result = result; entry.error = undefined; })
        .catch((error: Error) => { entry.error = error.message; })
        .finally(() => { entry.running = null; });
    }
    if (entry.result === null) return { state: entry.error ? 'error' : 'checking', checkedSeq, stale, report: null, ...(entry.error ? { error: entry.error } : {}) };
    return { state: entry.result.report.ok ? 'verified' : 'failed', checkedSeq, stale, report: entry.result.report };
  }

  /** Waits for the running check of `runId`, if any (tests and the first page load). */
  async settled(runId: RunId): Promise<void> {
    await this.entries.get(runId)?.running;
  }
}
