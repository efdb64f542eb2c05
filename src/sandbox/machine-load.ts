/**
 * The machine's CPU time, read from /proc/stat (every CPU together, in seconds): what was busy, and what the
 * hypervisor took (steal). Read before and after a run, the difference less the run's own CPU time is what other
 * work took while it ran. Null where /proc/stat cannot be read (not Linux).
 * Is not: a judgement of contention (the harness turns these into the run's `contention` metric).
 */
import { readFileSync } from 'node:fs';

/** Linux reports /proc/stat in USER_HZ ticks, 100 per second on every architecture it exports them on. */
const TICKS_PER_SECOND = 100;

export interface MachineCpu {
  /** CPU-seconds spent on anything but idle and I/O wait, all CPUs. */
  busySeconds: number;
  /** CPU-seconds the hypervisor gave to other machines. */
  stealSeconds: number;
}

export function readMachineCpu(): MachineCpu | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((entry) => entry.startsWith('cpu '));
    if (!line) return null;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user).
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    if ([user, nice, system, irq, softirq, steal].some((value) => !Number.isFinite(value))) return null;
    return { busySeconds: (user + nice + system + irq + softirq) / TICKS_PER_SECOND, stealSeconds: steal / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}
