import { ArgumentError } from '../errors.js';
import { quote } from '../quote.js';

/** Throws ArgumentError unless x is an integer ≥ min (and ≤ max when given). */
export function assertInteger(field: string, x: unknown, min: number, max = Number.MAX_SAFE_INTEGER): asserts x is number {
  if (typeof x !== 'number' || !Number.isInteger(x)) {
    throw new ArgumentError(field, `must be an integer, got ${describe(x)}`);
  }
  if (x < min || x > max) {
    // Name the bound that was violated (a huge value must not read "must be ≥ 1").
    const range = max === Number.MAX_SAFE_INTEGER ? (x < min ? `≥ ${min}` : `≤ ${max} (the largest safe integer)`) : `in [${min}, ${max}]`;
    throw new ArgumentError(field, `must be ${range}, got ${x}`);
  }
}

/** Throws ArgumentError unless lo < x < hi (open interval). */
export function assertOpenInterval(field: string, x: unknown, lo: number, hi: number): asserts x is number {
  if (typeof x !== 'number' || !Number.isFinite(x) || !(x > lo && x < hi)) {
    throw new ArgumentError(field, `must be a number in (${lo}, ${hi}), got ${describe(x)}`);
  }
}

/** Throws ArgumentError unless lo ≤ x ≤ hi. */
export function assertClosedInterval(field: string, x: unknown, lo: number, hi: number): asserts x is number {
  if (typeof x !== 'number' || !Number.isFinite(x) || !(x >= lo && x <= hi)) {
    throw new ArgumentError(field, `must be a number in [${lo}, ${hi}], got ${describe(x)}`);
  }
}

/** Throws ArgumentError unless x is a finite number > 0. */
export function assertPositive(field: string, x: unknown): asserts x is number {
  if (typeof x !== 'number' || !Number.isFinite(x) || !(x > 0)) {
    throw new ArgumentError(field, `must be a finite number > 0, got ${describe(x)}`);
  }
}

/** The value as a message quotes it (capped: see quote.ts). */
export function describe(x: unknown): string {
  if (Array.isArray(x)) return 'an array';
  if (x !== null && typeof x === 'object' && !ArrayBuffer.isView(x)) return 'an object';
  return quote(x);
}
