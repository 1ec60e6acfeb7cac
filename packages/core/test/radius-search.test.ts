import { describe, expect, it } from 'vitest';
import { largestRadius, leeNoiseBound, maxCertifiedRadius } from '../src/index.js';

describe('largestRadius', () => {
  it('finds the exact largest integer for every threshold (against a linear scan)', () => {
    for (const max of [0, 1, 2, 7, 100, 1023, 1024]) {
      for (let t = -1; t <= max; t++) {
        const evaluated: number[] = [];
        const holds = (r: number) => {
          evaluated.push(r);
          return r <= t;
        };
        expect(largestRadius(holds, max, 'integer')).toBe(t);
        expect(evaluated.length).toBeLessThanOrEqual(2 * Math.log2(max + 2) + 3);
      }
    }
  });

  it('never evaluates far beyond the answer (bounds can cost O(ρ²))', () => {
    const evaluated: number[] = [];
    largestRadius((r) => (evaluated.push(r), r <= 5), 150_528, 'integer');
    expect(Math.max(...evaluated)).toBeLessThanOrEqual(8);
    // the Lee bound at ImageNet size answers quickly for that reason
    expect(maxCertifiedRadius({ bound: leeNoiseBound(3 * 224 * 224, 256, 0.1), pLower: 0.5965 })).toBe(1);
  });

  it('real domain: returns a value at or just below the supremum', () => {
    const r = largestRadius((x) => x < Math.PI, 100, 'real');
    expect(r).toBeLessThan(Math.PI);
    expect(Math.PI - r).toBeLessThan(1e-8);
  });
});
