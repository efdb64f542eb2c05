/**
 * The audit verification off the main thread: opens the journal read-only, verifies the chain (and one run's rows
 * when asked), posts the report and exits. Verifying a 10,000-experiment journal takes seconds, which would
 * otherwise stall every request and event stream of the dashboard. Started by audit-status.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openJournal } from '../journal/journal.js';
import type { RunId } from '../task/ids.js';

const { path, runId } = workerData as { path: string; runId?: RunId };
const journal = openJournal(path, { readonly: true });
try {
  const head = journal.auditHead();
  parentPort?.postMessage({ report: journal.verifyAudit(runId ? { runId } : {}), seq: head.seq });
} catch (error) {
  parentPort?.postMessage({ error: (error as Error).message });
} finally {
  journal.close();
}
