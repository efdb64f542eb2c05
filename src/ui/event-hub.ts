/**
 * Live updates of runs: one poller per watched run (shared by every browser watching it) reads the journal every
 * `intervalMs` and hands each subscriber an update — the experiments created or changed, the run's new view,
 * the journal events appended. The journal is the only channel between the lab process and the dashboard, so
 * polling it is what "live" means here; a poll that finds nothing new costs one indexed query.
 * Not the HTTP side (routes/events.ts).
 */
import type { EventRow } from '../journal/journal.js';
import type { RunId } from '../task/ids.js';
import type { ExperimentLine } from '../journal/views.js';
import type { LabAccess } from './lab-access.js';
import { runView, type RunView } from './run-model.js';

export interface RunUpdate {
  auditSeq: number;
  lastEventId: number;
  run: RunView;
  experiments: ExperimentLine[];
  events: EventRow[];
}

export type Subscriber = (update: RunUpdate) => void;

interface Poller { subscribers: Set<Subscriber>; auditSeq: number; lastEventId: number; timer: NodeJS.Timeout }

export class EventHub {
  private readonly pollers = new Map<RunId, Poller>();

  constructor(private readonly access: LabAccess, private readonly intervalMs = 500) {}

  /** What changed in a run after the given cursors (null when nothing did). */
  updateSince(runId: RunId, auditSeq: number, lastEventId: number): RunUpdate | null {
    const { access } = this;
    if (!access.views.runChangedSince(runId, auditSeq)) return null;
    const changed = access.views.changedSince(runId, auditSeq);
    const events = access.journal.listEvents(runId, lastEventId);
    const run = access.journal.getRun(runId);
    if (!run) return null;
    return {
      auditSeq: changed.auditSeq, lastEventId: events.at(-1)?.id ?? lastEventId,
      run: runView(run, access.lines(runId)), experiments: changed.lines, events,
    };
  }

  /** Subscribes to a run's updates after the given cursors; the catch-up (if any) is delivered at once. */
  subscribe(runId: RunId, cursor: { auditSeq: number; lastEventId: number }, subscriber: Subscriber): () => void {
    const catchUp = this.updateSince(runId, cursor.auditSeq, cursor.lastEventId);
    if (catchUp) subscriber(catchUp);
    let poller = this.pollers.get(runId);
    if (!poller) {
      const start = { auditSeq: catchUp?.auditSeq ?? this.access.views.auditSeq(), lastEventId: catchUp?.lastEventId ?? cursor.lastEventId };
      const created: Poller = { subscribers: new Set(), ...start, timer: setInterval(() => this.poll(runId, created), this.intervalMs) };
      created.timer.unref();
      poller = created;
      this.pollers.set(runId, poller);
    }
    poller.subscribers.add(subscriber);
    const current = poller;
    return () => {
      current.subscribers.delete(subscriber);
      if (current.subscribers.size === 0) {
        clearInterval(current.timer);
        this.pollers.delete(runId);
      }
    };
  }

  watchedRuns(): number {
    return this.pollers.size;
  }

  private poll(runId: RunId, poller: Poller): void {
    let update: RunUpdate | null;
    try {
      update = this.updateSince(runId, poller.auditSeq, poller.lastEventId);
    } catch {
      return; // a busy or briefly locked journal: the next poll tries again
    }
    if (!update) return;
    poller.auditSeq = update.auditSeq;
    poller.lastEventId = update.lastEventId;
    for (const subscriber of poller.subscribers) subscriber(update);
  }

  close(): void {
    for (const poller of this.pollers.values()) clearInterval(poller.timer);
    this.pollers.clear();
  }
}
