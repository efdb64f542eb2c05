/**
 * What `successor research` prints on stderr while it runs: one line per lab event (started, finished, gate, notes),
 * and a live line for the experiments running now — elapsed time against their cap, and the run's own last progress
 * line when it reports one (an `experiment.progress` event), marked as the run's claim. On a terminal the live line
 * is redrawn in place every second; elsewhere (a log file, CI) it is a plain line every `plainEverySeconds`.
 * Numbers are rounded for people. Is not: the loop or its events (src/lab/events.ts).
 */
import type { LabEvent } from '../lab/events.js';
import { isScored } from '../task/outcome.js';
import { formatNumber } from './common.js';
import { printable } from './transcript.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

interface Running {
  seq: number; role: string; description: string; startedMs: number; capSeconds: number | null;
  claim: string | null; lastPlainMs: number;
}

export interface LiveProgressOptions {
  now?: () => number;
  /** Without a terminal: a plain status line per running experiment this often. */
  plainEverySeconds?: number;
}

const CLAIM_CHARACTERS = 80;

/** The run's own words, one line, control characters escaped, clipped: shown as its claim. */
export function claimOf(line: string): string {
  const flat = printable(line.replace(/\s+/g, ' ').trim());
  return flat.length > CLAIM_CHARACTERS ? `${flat.slice(0, CLAIM_CHARACTERS - 1)}…` : flat;
}

const seconds = (value: number): string => `${formatNumber(Math.round(value * 10) / 10)}s`;

/** The line printed for each lab event (null: nothing to print, e.g. a run's progress, which the live line shows). */
export function eventLine(event: LabEvent): string | null {
  switch (event.type) {
    case 'note':
      return event.message;
    case 'experiment.started': {
      const { experiment } = event;
      const cap = event.capSeconds ? ` (cap ${formatNumber(event.capSeconds)}s)` : '';
      return `#${experiment.seq} ${experiment.role} ${printable(experiment.description)}${cap} ...`;
    }
    case 'experiment.progress':
      return null;
    case 'experiment.finished': {
      const { experiment } = event;
      const outcome = experiment.outcome;
      const result = !outcome ? '?' : isScored(outcome) ? `${outcome.status} ${formatNumber(outcome.score)}` : `${outcome.status}: ${outcome.reason.slice(0, 120)}`;
      const claim = experiment.metadata.claim ? ' — claims a win, repeating' : '';
      const budget = event.budgetLeftSeconds === null ? '' : `, budget left ${Math.round(event.budgetLeftSeconds / 60)}m`;
      return `#${experiment.seq} ${experiment.role} ${printable(experiment.description)}: ${result}${claim} (best ${event.best === null ? '-' : formatNumber(event.best)}${budget})`;
    }
    case 'gate':
      return `#${event.experiment.seq} gate: ${event.accepted ? 'ACCEPTED' : 'rejected'} — ${event.detail}`;
  }
}

export class LiveProgress {
  private readonly running = new Map<string, Running>();
  private readonly now: () => number;
  private readonly plainEveryMs: number;
  private timer: NodeJS.Timeout | null = null;
  private drawn = false;

  constructor(private readonly stream: ProgressStream, options: LiveProgressOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.plainEveryMs = (options.plainEverySeconds ?? 30) * 1000;
  }

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  observe(event: LabEvent): void {
    if (event.type === 'experiment.started') {
      const { experiment } = event;
      const at = this.now();
      this.running.set(experiment.id, {
        seq: experiment.seq, role: experiment.role, description: experiment.description, startedMs: at, capSeconds: event.capSeconds, claim: null, lastPlainMs: at,
      });
    } else if (event.type === 'experiment.progress') {
      const running = this.running.get(event.experiment.id);
      if (running) running.claim = claimOf(event.line);
    } else if (event.type === 'experiment.finished') {
      this.running.delete(event.experiment.id);
    }
    const line = eventLine(event);
    if (line !== null) this.print(line);
    else if (this.tty) this.redraw();
  }

  /** Prints a line of its own, keeping the live line below it on a terminal. */
  print(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
    this.redraw();
  }

  /** The live status of what runs now: `#3 candidate 12.5s of 45s cap · run says: "step 40 ..."`. */
  status(): string {
    const at = this.now();
    return [...this.running.values()].map((running) => {
      const elapsed = (at - running.startedMs) / 1000;
      const cap = running.capSeconds === null ? '' : ` of ${formatNumber(running.capSeconds)}s cap`;
      const claim = running.claim ? ` · run says: "${running.claim}"` : '';
      return `#${running.seq} ${running.role} ${seconds(elapsed)}${cap}${claim}`;
    }).join(' | ');
  }

  /** Once a second on a terminal (redraw); elsewhere a plain line per experiment every plainEverySeconds. */
  tick(): void {
    if (this.tty) return this.redraw();
    const at = this.now();
    for (const running of this.running.values()) {
      if (at - running.lastPlainMs < this.plainEveryMs) continue;
      running.lastPlainMs = at;
      const elapsed = (at - running.startedMs) / 1000;
      const cap = running.capSeconds === null ? '' : ` of ${formatNumber(running.capSeconds)}s cap`;
      this.stream.write(`#${running.seq} ${running.role} running ${seconds(elapsed)}${cap}${running.claim ? ` · run says: "${running.claim}"` : ''}\n`);
    }
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private redraw(): void {
    if (!this.tty) return;
    const text = this.status();
    if (!text) return this.clear();
    const width = Math.max(20, (this.stream.columns || 120) - 1); // a pty without a size reports 0 columns
    this.stream.write(`\r${text.length > width ? `${text.slice(0, width - 1)}…` : text}\x1b[K`);
    this.drawn = true;
  }

  private clear(): void {
    if (!this.tty || !this.drawn) return;
    this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
