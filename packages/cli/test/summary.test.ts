import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certifiedAccuracyCurve, medianCertifiedRadius, summarize } from '../src/summary.js';
import { UsageError } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ablate-summary-'));
let seq = 0;
const file = (rows: object[], extra = '') => {
  const f = join(dir, `${++seq}.jsonl`);
  writeFileSync(f, rows.map((r) => `${JSON.stringify(r)}\n`).join('') + extra);
  return f;
};
// an abstention (radius null) is never correct: summarize refuses rows that contradict themselves
const row = (index: number, radius: number | null, correct = true) => ({ index, label: 0, prediction: radius === null ? null : correct ? 0 : 1, radius, correct: radius !== null && correct });

describe('summarize', () => {
  it('real-valued (L2) radii: the true median and accuracy at each distinct radius', () => {
    const s = summarize(file([row(0, 0.31), row(1, 0.45), row(2, 0.62)]));
    expect(s.medianCertifiedRadius).toBe(0.45);
    expect(s.certifiedAccuracy).toEqual({ '0': 1, '0.31': 1, '0.45': 2 / 3, '0.62': 1 / 3 });
    // wrong and abstained count as −∞: sorted descending 0.62, 0.45, 0.31, −∞, −∞ → the 3rd
    const t = summarize(file([row(0, 0.31), row(1, 0.45), row(2, 0.62), row(3, 0.9, false), row(4, null)]));
    expect(t.medianCertifiedRadius).toBe(0.31);
    expect(t.certifiedAccuracy).toEqual({ '0': 0.6, '0.31': 0.6, '0.45': 0.4, '0.62': 0.2 });
  });

  it('median = the largest ρ with certified accuracy ≥ 0.5 (the paper’s definition), for even counts too', () => {
    expect(medianCertifiedRadius([-Infinity, 1, 2, 3])).toBe(2); // accuracy at 2 is 2/4
    expect(medianCertifiedRadius([-Infinity, -Infinity, -Infinity, 3])).toBeNull();
    expect(medianCertifiedRadius([5])).toBe(5);
    const radii = [0.1, 0.7, 0.7, 1.3, -Infinity, 2.9];
    const m = medianCertifiedRadius(radii)!;
    const curve = certifiedAccuracyCurve(radii);
    expect(curve[String(m)]).toBeGreaterThanOrEqual(0.5);
    const above = Object.keys(curve).map(Number).filter((r) => r > m);
    expect(above.every((r) => curve[String(r)]! < 0.5)).toBe(true);
  });

  it('absurd radii are summarized at once (no loop from 0 to the radius)', () => {
    const t0 = performance.now();
    const s = summarize(file([row(0, 1e308), row(1, 1e12), row(2, 3)]));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(s.certifiedAccuracy).toEqual({ '0': 1, '3': 1, '1000000000000': 2 / 3, '1e+308': 1 / 3 });
    expect(s.medianCertifiedRadius).toBe(1e12);
  });

  it.each([
    [[{ label: 0, prediction: 0, correct: true }], /:1 has no integer "index"/],
    [[row(0, 1), { ...row(1, 1), index: '1' }], /:2 has no integer "index" ≥ 0 \(got "1"\)/],
    [[{ ...row(0, 1), index: 2.5 }], /:1 has no integer "index"/],
    [[{ ...row(0, 1), radius: -3 }], /:1 has a "radius" that is neither a number ≥ 0 nor null/],
    [[{ ...row(0, 1), correct: 'yes' }], /:1 has no boolean "correct"/],
  ])('refuses rows it cannot count, naming file:line (%#)', (rows, message) => {
    const f = file(rows);
    expect(() => summarize(f)).toThrow(UsageError);
    expect(() => summarize(f)).toThrow(message);
  });

  it('hostile attack rows: a magnitude of 10¹² and 300 000 rows are summarized at once, with exact figures', () => {
    const attack = (index: number, magnitude: number | null) => ({ index, label: 1, prediction: 1, correct: true, magnitude });
    // magnitudes 0, 3, 1e12, none found: accuracy at ρ = fraction with magnitude > ρ; the grid is 0 and each magnitude
    const s = summarize(file([attack(0, 1e12), attack(1, 3), attack(2, 0), attack(3, null)]));
    expect(s.attack!.empiricalAccuracy).toEqual({ '0': 0.75, '3': 0.5, '1000000000000': 0.25 });
    expect(s.attack!.medianAdversarialMagnitude).toBe(1e12); // sorted 0, 3, 1e12, +∞ → the 3rd
    expect(s.attack!.notFound).toBe(1);
    expect(s.attack!.misclassified).toBe(1);
    // small magnitudes keep the integer grid of the paper's plots: 0, 1, 2, 3
    expect(summarize(file([attack(0, 3), attack(1, 1)])).attack!.empiricalAccuracy).toEqual({ '0': 1, '1': 0.5, '2': 0.5, '3': 0 });
    // 300 000 rows (Math.max(...rows) overflowed the stack): 1/3 at magnitude 2, 2/3 at 5
    const many = Array.from({ length: 300_000 }, (_, i) => attack(i, i % 3 === 0 ? 2 : 5));
    const t = summarize(file(many));
    expect(t.count).toBe(300_000);
    expect(t.attack!.empiricalAccuracy).toEqual({ '0': 1, '1': 1, '2': 2 / 3, '3': 2 / 3, '4': 2 / 3, '5': 0 });
    expect(t.attack!.medianAdversarialMagnitude).toBe(5);
  });
});
