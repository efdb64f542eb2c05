/**
 * Probes: a researcher's short trial of a staged change before it proposes it. A probe is run by the lab, never
 * by the researcher: it goes through the run's executor, so the same harness and sandbox as every experiment, under
 * its own short cap; it is journaled as a `probe` event (what was tried, how it ended, the ends of its output) and
 * never as an experiment row, so the planner and the gate never see it as a sample; its time is the run's wall
 * clock and its CPU-seconds count against the run's CPU budget. A proposal gets `probes.perProposal` of them.
 * Is not: the instruments that make a probe a type check or a profile (probe-instruments.ts).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExperimentRow, Journal, RunRow } from '../journal/journal.js';
import type { ProbeRequest, ProbeResult } from '../researcher/types.js';
import type { Change } from '../task/change.js';
import { ChangeError } from '../task/errors.js';
import { isScored } from '../task/outcome.js';
import { type Lineage, checkChange, materialiseWorkspace } from '../task/workspace.js';
import type { LabContext } from './context.js';
import { childLineage } from './diff.js';
import type { RunOptions } from './options.js';
import { CHECK_CONFIG, canCheckTypes, checkConfigEdit, checkTaskDir, lastProfile, profileInstrument } from './probe-instruments.js';

export const PROBE_EVENT = 'probe';
/** Characters of each output stream a probe hands back (its end, where errors are). */
const OUTPUT_CHARS = 4000;
/** A type check needs the compiler's start-up, whatever the probe cap. */
const CHECK_MIN_SECONDS = 60;

const tail = (text: string, chars = OUTPUT_CHARS): string => (text.length > chars ? `[... ${text.length - chars} earlier characters cut]\n${text.slice(-chars)}` : text);

/** A probe of one proposal's staged change; `counter` is shared by the probes of one proposal. */
export interface ProbeSession {
  run: RunRow;
  options: RunOptions;
  signal: AbortSignal;
  lineage(experiment: ExperimentRow): Lineage;
  /** Probes made so far in this proposal. */
  used: number;
  /** Told of every probe's CPU-seconds (the loop adds them to the run's CPU budget). */
  onCpuSeconds(seconds: number): void;
}

function refused(request: ProbeRequest, summary: string, probesLeft: number): ProbeResult {
  return { kind: request.kind, status: 'refused', summary, wallSeconds: null, stdout: '', stderr: '', profile: null, probesLeft };
}

/** Runs one probe and journals it; every expected failure (limit reached, bad change, no compiler) is a result. */
export async function runProbe(context: LabContext, session: ProbeSession, request: ProbeRequest): Promise<ProbeResult> {
  const { journal, task, executor, stateDir } = context;
  const limit = session.options.probes.perProposal;
  if (session.used >= limit) return refused(request, limit === 0 ? 'probes are turned off for this run' : `no probes left: ${limit} per proposal`, 0);
  const parent = journal.getExperiment(request.parentId);
  if (!parent || parent.runId !== session.run.id) return refused(request, `no experiment ${request.parentId} in this run`, limit - session.used);
  const parentLineage = session.lineage(parent);
  let lineage: Lineage;
  try {
    checkChange(task, parentLineage.assignment, request.change);
    lineage = childLineage(parentLineage, request.change);
  } catch (error) {
    if (error instanceof ChangeError) return refused(request, `the change does not apply: ${error.message}`, limit - session.used);
    throw error;
  }
  // Materialised once here: an edit that does not apply is refused before anything runs, and a profile finds its factory.
  let instrument: ReturnType<typeof profileInstrument> = null;
  try {
    instrument = stagedInstrument(context, lineage);
  } catch (error) {
    if (error instanceof ChangeError) return refused(request, `the change does not apply: ${error.message}`, limit - session.used);
    throw error;
  }
  const cap = Math.min(request.seconds ?? session.options.probes.capSeconds, session.options.probes.capSeconds, task.file.run.limits.wallSeconds);
  let taskDir = task.dir;
  let capSeconds = cap;
  let note = '';
  if (request.kind === 'check') {
    if (!canCheckTypes()) return refused(request, 'no type checker here (the typescript package is not installed)', limit - session.used);
    capSeconds = Math.max(cap, CHECK_MIN_SECONDS);
    taskDir = checkTaskDir(task, stateDir, capSeconds);
    lineage = { ...lineage, edits: [...lineage.edits, checkConfigEdit()] };
  } else if (request.kind === 'profile') {
    if (instrument) lineage = { ...lineage, edits: [...lineage.edits, instrument] };
    else note = ' (no kernel backend to time in this workspace: ran without a profile)';
  }
  session.used += 1;
  const probeId = `probe_${randomBytes(6).toString('hex')}`;
  const startedMs = Date.now();
  const result = await executor.run({
    runId: session.run.id, experimentId: probeId, taskDir, taskName: task.file.name, taskVersion: task.file.version,
    lineage, capSeconds, seed: session.options.seed + 100_000 + session.used,
  }, session.signal);
  const read = (stream: string) => {
    const path = join(result.logDir, `${stream}.log`);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };
  const stdout = read('stdout');
  const stderr = read('stderr');
  rmSync(dirname(result.logDir), { recursive: true, force: true });
  const { outcome } = result;
  const cpuSeconds = Number(outcome.metrics.cpuSeconds ?? 0) || 0;
  session.onCpuSeconds(cpuSeconds);
  const profile = request.kind === 'profile' ? lastProfile(stderr) : null;
  const ended = isScored(outcome) ? `${outcome.status} in ${result.wallSeconds?.toFixed(1)} s (scored ${Number(outcome.score.toPrecision(4))})`
    : outcome.status === 'timeout' ? `still running at the probe's ${capSeconds} s cap (not a failure: probes are short)` : `${outcome.status}: ${outcome.reason.slice(0, 300)}`;
  const what = request.kind === 'check' ? `type check (tsc --noEmit over the workspace, ${CHECK_CONFIG})` : request.kind === 'profile' ? 'profiled run' : 'capped run';
  const summary = `${what}: ${ended}${note}`;
  const probe: ProbeResult = {
    kind: request.kind, status: outcome.status, summary, wallSeconds: result.wallSeconds, stdout: tail(stdout), stderr: tail(stderr),
    profile, probesLeft: limit - session.used,
  };
  const { sandbox } = await executor.describe();
  journalProbe(journal, session.run, request, probe, { probeId, sandbox, cpuSeconds, capSeconds, elapsedSeconds: (Date.now() - startedMs) / 1000 });
  return probe;
}

/** The profile instrument for the staged workspace, materialised once in scratch (throws ChangeError if it does not apply). */
function stagedInstrument(context: LabContext, lineage: Lineage) {
  const dir = join(context.stateDir, 'scratch', `probe-${randomBytes(4).toString('hex')}`);
  try {
    materialiseWorkspace(context.task, lineage, dir);
    return profileInstrument(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function describeChange(change: Change): string {
  const knobs = Object.entries(change.knobs).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  const files = [...new Set(change.edits.map((edit) => `edit ${edit.path}`))];
  return [...knobs, ...files].join(', ') || 'no change';
}

function journalProbe(journal: Journal, run: RunRow, request: ProbeRequest, probe: ProbeResult, facts: Record<string, unknown>): void {
  journal.appendEvent(run.id, PROBE_EVENT, {
    kind: probe.kind, parentId: request.parentId, change: describeChange(request.change), status: probe.status, summary: probe.summary,
    wallSeconds: probe.wallSeconds, ...facts, stdout: tail(probe.stdout, 2000), stderr: tail(probe.stderr, 2000), profile: probe.profile,
  });
}

/** CPU-seconds the run's probes used, from its journal (a resumed run counts the ones before too). */
export function probeCpuSeconds(journal: Journal, run: RunRow): number {
  return journal.listEvents(run.id).filter((event) => event.type === PROBE_EVENT).reduce((sum, event) => sum + (Number(event.payload.cpuSeconds) || 0), 0);
}
