/**
 * The dashboard's access to the lab: a read-only journal for queries, the compact views (src/journal/views.ts) with an
 * incrementally updated cache of each run's experiment lines and of what its model calls cost, the audit status
 * cache, and the only write path — a writable journal opened for the length of one control call
 * (src/lab/control.ts), as the CLI does. SQLite's WAL lets this process read and briefly write while the lab runs.
 */
import { type Journal, type ModelUsage, NO_USAGE, type RunRow, type UsageByRun, addUsage, openJournal } from '../journal/journal.js';
import { RunId } from '../task/ids.js';
import { AuditStatusCache } from './audit-status.js';
import { JournalViews, type ExperimentLine } from '../journal/views.js';

interface CachedLines { auditSeq: number; lines: ExperimentLine[] }

export class LabAccess {
  readonly journal: Journal;
  readonly views: JournalViews;
  readonly audit: AuditStatusCache;
  private readonly linesCache = new Map<RunId, CachedLines>();
  private readonly usage: UsageByRun = { byRun: new Map(), lastEventId: 0 };

  constructor(readonly journalPath: string, readonly stateDir: string) {
    this.journal = openJournal(journalPath, { readonly: true });
    this.views = new JournalViews(journalPath);
    this.audit = new AuditStatusCache(journalPath);
  }

  findRun(id: string): RunRow | undefined {
    const parsed = RunId.safeParse(id);
    return parsed.success ? this.journal.getRun(parsed.data) : undefined;
  }

  /** A run's experiment lines by seq, current as of now; a live run costs only the experiments that changed. */
  lines(runId: RunId): ExperimentLine[] {
    const cached = this.linesCache.get(runId);
    if (!cached) {
      const fresh = this.views.lines(runId);
      this.linesCache.set(runId, fresh);
      return fresh.lines;
    }
    const { auditSeq, lines } = this.views.changedSince(runId, cached.auditSeq);
    for (const line of lines) {
      // seq is 1, 2, ... per run, so a line's place is its seq - 1 (a gap would only come from a corrupt journal).
      if (line.seq - 1 <= cached.lines.length) cached.lines[line.seq - 1] = line;
      else cached.lines.push(line);
    }
    cached.auditSeq = auditSeq;
    return cached.lines;
  }

  /**
   * What each run's model calls cost, current as of now: the calls since the last look are added to what was
   * counted before (event ids only grow), so a polled runs list never sums every transcript again.
   */
  modelUsage(): ReadonlyMap<string, ModelUsage> {
    const fresh = this.journal.modelUsageByRun(this.usage.lastEventId);
    for (const [runId, usage] of fresh.byRun) this.usage.byRun.set(runId, addUsage(this.usage.byRun.get(runId) ?? NO_USAGE, usage));
    this.usage.lastEventId = fresh.lastEventId;
    return this.usage.byRun;
  }

  /** Runs one control call on a writable journal opened for it alone. */
  write<T>(work: (journal: Journal) => T): T {
    const journal = openJournal(this.journalPath);
    try {
      return work(journal);
    } finally {
      journal.close();
    }
  }

  close(): void {
    this.journal.close();
    this.views.close();
  }
}
