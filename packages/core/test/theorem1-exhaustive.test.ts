import { describe, expect, it } from 'vitest';
import { ablationDelta } from '../src/index.js';

// Exhaustive check of Theorem 1 on a tiny space: d = 8 binary pixels, k = 3 retained.
const d = 8;
const k = 3;
const subsets: number[] = [];
for (let m = 0; m < 1 << d; m++) if (popcount(m) === k) subsets.push(m);

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

/** A base classifier sees ABLATE(x, T) = (retained set T, the bits of x on T); classes 0..2. */
type Base = (T: number, bitsOnT: number) => number;

const classifiers: Record<string, Base> = {
  // lookup table with pseudo-random classes (a "worst-case-free" arbitrary function)
  hashed: (T, b) => ((Math.imul(T * 257 + b, 2654435761) >>> 0) % 3),
  // majority of retained bits
  majority: (_T, b) => (popcount(b) >= 2 ? 1 : 0),
  // fires when any retained pixel is 1: attains Δ exactly at x = 0
  anyOne: (_T, b) => (b !== 0 ? 1 : 0),
  // depends on where the retained pixels are, not only their values
  positional: (T, b) => ((T & 0b1111) && (b & 0b1010_1010) ? 2 : (T >> 4) & 1),
};

function classProbabilities(f: Base, x: number): number[] {
  const p = [0, 0, 0];
  for (const T of subsets) p[f(T, x & T)]! += 1 / subsets.length;
  return p;
}

describe('Theorem 1 by exhaustive enumeration (d = 8, k = 3, binary pixels)', () => {
  for (const [name, f] of Object.entries(classifiers)) {
    it(`|p_i(x′) − p_i(x)| ≤ Δ(‖x − x′‖₀) for every pair, classifier "${name}"`, () => {
      const probs = Array.from({ length: 1 << d }, (_, x) => classProbabilities(f, x));
      let maxSlack = Infinity;
      for (let x = 0; x < 1 << d; x++) {
        for (let y = 0; y < 1 << d; y++) {
          const delta = ablationDelta(d, k, popcount(x ^ y));
          for (let i = 0; i < 3; i++) {
            const diff = Math.abs(probs[x]![i]! - probs[y]![i]!);
            expect(diff).toBeLessThanOrEqual(delta + 1e-12);
            maxSlack = Math.min(maxSlack, delta - diff);
          }
        }
      }
      expect(Number.isFinite(maxSlack)).toBe(true);
    });
  }

  it('is attained: the "anyOne" classifier reaches Δ exactly for every ρ', () => {
    const p0 = classProbabilities(classifiers.anyOne!, 0);
    for (let rho = 0; rho <= d; rho++) {
      const x2 = (1 << rho) - 1; // ρ ones
      const p1 = classProbabilities(classifiers.anyOne!, x2);
      const exact = 1 - binom(d - rho, k) / binom(d, k);
      expect(Math.abs(p1[1]! - p0[1]!)).toBeCloseTo(exact, 14);
      expect(ablationDelta(d, k, rho)).toBeCloseTo(exact, 14);
      expect(ablationDelta(d, k, rho)).toBeGreaterThanOrEqual(exact);
    }
  });
});

function binom(n: number, r: number): number {
  if (r < 0 || r > n) return 0;
  let acc = 1;
  for (let i = 0; i < r; i++) acc = (acc * (n - i)) / (i + 1);
  return acc;
}
