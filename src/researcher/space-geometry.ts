/**
 * Geometry of a search space for optimisers: each numeric knob maps to [0, 1] in its own scale (log knobs on a
 * log axis), categorical knobs to a choice index; values come back rounded to what a person would write
 * (integers, floats to 3 significant digits) and clamped inside the knob's bounds. Also: assignment keys for
 * duplicate detection and the "lr 1e-3→3e-3" descriptions of changes.
 *
 * Is not: the space's schema (src/task/space.ts) nor validation of untrusted proposals (the lab does that).
 */
import type { Assignment, Knob, KnobValue, Space } from '../task/space.js';

/** Knob names in a stable order (sorted), so that seeded optimisers do not depend on JSON key order. */
export const knobNames = (space: Space): string[] => Object.keys(space).sort();

/** A knob that can take more than one value; the others are never worth proposing. */
export const isMutable = (knob: Knob): boolean => knob.type === 'categorical' ? knob.choices.length > 1 : knob.max > knob.min;

/** Numeric knob value -> [0, 1] in the knob's scale; out-of-range values are clamped. */
export function toUnit(knob: Exclude<Knob, { type: 'categorical' }>, value: number): number {
  if (knob.max === knob.min) return 0.5;
  const position = knob.scale === 'log'
    ? (Math.log(value) - Math.log(knob.min)) / (Math.log(knob.max) - Math.log(knob.min))
    : (value - knob.min) / (knob.max - knob.min);
  return Number.isFinite(position) ? Math.min(1, Math.max(0, position)) : 0.5;
}

/** Rounds to 3 significant digits: proposals read "3e-4", not "0.000301838...". */
export const roundSignificant = (value: number): number => value === 0 ? 0 : Number(value.toPrecision(3));

/** [0, 1] -> a numeric knob value, rounded (integers, 3 significant digits) and inside [min, max]. */
export function fromUnit(knob: Exclude<Knob, { type: 'categorical' }>, unit: number): number {
  const clamped = Math.min(1, Math.max(0, unit));
  const raw = knob.scale === 'log'
    ? Math.exp(Math.log(knob.min) + clamped * (Math.log(knob.max) - Math.log(knob.min)))
    : knob.min + clamped * (knob.max - knob.min);
  const rounded = knob.type === 'int' ? Math.round(raw) : roundSignificant(raw);
  return Math.min(knob.max, Math.max(knob.min, rounded));
}

/** Whether a value is one this knob accepts (type, bounds, integrality, choices). */
export function isValidKnobValue(knob: Knob, value: KnobValue): boolean {
  if (knob.type === 'categorical') return knob.choices.includes(value);
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (knob.type === 'int' && !Number.isInteger(value)) return false;
  return value >= knob.min && value <= knob.max;
}

/** The assignment with every knob of the space present (missing ones at their default, the baseline's value). */
export function completeAssignment(space: Space, assignment: Assignment): Assignment {
  const complete: Assignment = {};
  for (const name of knobNames(space)) complete[name] = assignment[name] ?? space[name].default;
  return complete;
}

/** A string equal for equal points of the space (knobs outside the space are ignored). */
export function assignmentKey(space: Space, assignment: Assignment): string {
  const complete = completeAssignment(space, assignment);
  return JSON.stringify(knobNames(space).map((name) => complete[name]));
}

/** The knobs whose value differs between `from` and `to`, with their new values. */
export function knobDifferences(space: Space, from: Assignment, to: Assignment): Record<string, KnobValue> {
  const before = completeAssignment(space, from);
  const after = completeAssignment(space, to);
  const differences: Record<string, KnobValue> = {};
  for (const name of knobNames(space)) if (before[name] !== after[name]) differences[name] = after[name];
  return differences;
}

/** "1e-3", "3.5e-4", "0.25", "128", "true". */
export function formatKnobValue(value: KnobValue): string {
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-2 || magnitude >= 1e6)) {
    const [mantissa, exponent] = value.toExponential(2).split('e');
    return `${String(Number(mantissa))}e${Number(exponent)}`;
  }
  return String(Number(value.toPrecision(3)));
}

/** "lr 1e-3→3e-3, batch 32→16" for the knobs in `knobs`, in the space's order. */
export function describeKnobChange(space: Space, from: Assignment, knobs: Record<string, KnobValue>): string {
  const before = { ...from, ...completeAssignment(space, from) };
  return Object.keys(knobs).sort()
    .map((name) => `${name} ${name in before ? formatKnobValue(before[name]) : 'unset'}→${formatKnobValue(knobs[name])}`)
    .join(', ');
}

/**
 * A point as numbers, one per name in `names`: the [0, 1] position of numeric knobs, the choice index of
 * categorical ones (-1 when the value is not one of the choices).
 */
export function encodePoint(space: Space, names: readonly string[], assignment: Assignment): number[] {
  return names.map((name) => {
    const knob = space[name];
    const value = assignment[name] ?? knob.default;
    if (knob.type === 'categorical') return knob.choices.indexOf(value);
    return typeof value === 'number' ? toUnit(knob, value) : 0.5;
  });
}

/** The inverse of `encodePoint`: knobs not in `names` keep their value in `base`. */
export function decodePoint(space: Space, names: readonly string[], coordinates: readonly number[], base: Assignment): Assignment {
  const assignment = completeAssignment(space, base);
  names.forEach((name, index) => {
    const knob = space[name];
    assignment[name] = knob.type === 'categorical' ? knob.choices[coordinates[index]] : fromUnit(knob, coordinates[index]);
  });
  return assignment;
}

/** Root-mean-square distance of two encoded points; a categorical coordinate counts 0 when equal, 1 otherwise. */
export function pointDistance(space: Space, names: readonly string[], first: readonly number[], second: readonly number[]): number {
  let sum = 0;
  for (let index = 0; index < names.length; index++) {
    const gap = space[names[index]].type === 'categorical' ? (first[index] === second[index] ? 0 : 1) : first[index] - second[index];
    sum += gap * gap;
  }
  return names.length ? Math.sqrt(sum / names.length) : 0;
}
