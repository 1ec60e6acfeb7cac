import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { readMeta } from './jsonl.js';

export interface Summary {
  file: string;
  /** What made the run, from the sidecar: e.g. "ablation(k=45)", and the radius unit. */
  perturbation: string | null;
  unit: string;
  count: number;
  /** Fraction correct and not abstained. */
  accuracy: number;
  abstainRate: number;
  /** Paper convention: misclassified or abstained images count as −∞; null when that median is −∞. */
  medianCertifiedRadius: number | null;
  /** ρ → fraction of images certified correct with radius ≥ ρ (ρ = 0 … max radius). */
  certifiedAccuracy: Record<string, number>;
  /** Attack files (`ablate attack`) only: the empirical side, an upper bound on robustness. */
  attack?: AttackSummary;
}

/** What an attack file says (Levine & Feizi 2020, Table 2 conventions). */
export interface AttackSummary {
  /** Median adversarial magnitude in pixels: none found = +∞, misclassified/abstained original = 0. null when +∞. */
  medianAdversarialMagnitude: number | null;
  /** Images whose original was already misclassified or abstained on (magnitude 0). */
  misclassified: number;
  /** Images where no restart found an adversarial example (+∞). */
  notFound: number;
  /** ρ → fraction of images with no adversarial example of ≤ ρ pixels found (ρ = 0 … max magnitude): the empirical robust accuracy. */
  empiricalAccuracy: Record<string, number>;
}

interface Row {
  index: number;
  prediction: number | null;
  correct: boolean;
  radius?: number | null;
  magnitude?: number | null;
}

/** Median with +∞ for null (no adversarial found), the paper's convention; null when the median is +∞. */
function attackSummary(rows: readonly Row[]): AttackSummary {
  const m = rows.map((r) => (typeof r.magnitude === 'number' ? r.magnitude : Infinity)).sort((a, b) => a - b);
  // as the certified median: the largest ρ with at least half the images at magnitude ≥ ρ
  const median = m[Math.floor(m.length / 2)]!;
  const finite = m.filter(Number.isFinite);
  const max = finite.length ? Math.max(...finite) : 0;
  const empiricalAccuracy: Record<string, number> = {};
  for (let rho = 0; rho <= max; rho++) empiricalAccuracy[String(rho)] = m.filter((v) => v > rho).length / m.length;
  return {
    medianAdversarialMagnitude: Number.isFinite(median) ? median : null,
    misclassified: m.filter((v) => v === 0).length,
    notFound: m.filter((v) => v === Infinity).length,
    empiricalAccuracy,
  };
}

/** Reads a results file (ignoring a torn last line) and computes the paper's statistics. */
export function summarize(file: string, options: { include?: (index: number) => boolean } = {}): Summary {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError('FILE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code})`);
  }
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const rows: Row[] = [];
  for (const [i, line] of complete.split('\n').entries()) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as Row);
    } catch {
      throw new UsageError('FILE', `${file}:${i + 1} is not JSON`);
    }
  }
  const byIndex = new Map(rows.filter((r) => !options.include || options.include(r.index)).map((r) => [r.index, r]));
  const unique = [...byIndex.values()];
  const count = unique.length;
  if (count === 0) throw new UsageError('FILE', `${file} has no results`);
  const meta = readMeta(file);
  if (unique.some((r) => 'magnitude' in r)) {
    const attack = attackSummary(unique);
    return {
      file,
      perturbation: meta?.perturbation ?? null,
      unit: meta?.unit ?? 'pixels',
      count,
      accuracy: (count - attack.misclassified) / count,
      abstainRate: 0,
      medianCertifiedRadius: null,
      certifiedAccuracy: {},
      attack,
    };
  }
  const accuracy = unique.filter((r) => r.correct && r.prediction !== null).length / count;
  const abstainRate = unique.filter((r) => r.prediction === null).length / count;
  const radii = unique.map((r) => (r.correct && r.prediction !== null && typeof r.radius === 'number' ? r.radius : -Infinity));
  const max = Math.max(...radii);
  const certifiedAccuracy: Record<string, number> = {};
  let median: number | null = null;
  if (Number.isFinite(max)) {
    for (let rho = 0; rho <= max; rho++) {
      const frac = radii.filter((r) => r >= rho).length / count;
      certifiedAccuracy[String(rho)] = frac;
      if (frac >= 0.5) median = rho;
    }
  }
  const hasRadii = unique.some((r) => 'radius' in r);
  return {
    file,
    perturbation: meta?.perturbation ?? null,
    unit: meta?.unit ?? 'pixels',
    count,
    accuracy,
    abstainRate,
    medianCertifiedRadius: hasRadii ? median : null,
    certifiedAccuracy,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** Human-readable summary. */
export function formatSummary(s: Summary): string {
  if (s.attack) {
    const a = s.attack;
    return [
      `${s.file}${s.perturbation ? ` (${s.perturbation})` : ''} — attack`,
      `  images: ${s.count}`,
      `  clean accuracy: ${pct(s.accuracy)} (${a.misclassified} misclassified or abstained, counted as 0)`,
      `  median adversarial magnitude: ${a.medianAdversarialMagnitude === null ? '+∞' : `${a.medianAdversarialMagnitude} ${s.unit}`} (no adversarial found counts as +∞: ${a.notFound} images)`,
    ].join('\n');
  }
  const lines = [
    `${s.file}${s.perturbation ? ` (${s.perturbation})` : ''}`,
    `  images: ${s.count}`,
    `  classification accuracy: ${pct(s.accuracy)} (abstained ${pct(s.abstainRate)})`,
    `  median certified robustness: ${s.medianCertifiedRadius === null ? 'N/A' : `${s.medianCertifiedRadius} ${s.unit}`} (misclassified/abstained count as −∞)`,
  ];
  const rhos = Object.keys(s.certifiedAccuracy).map(Number);
  if (rhos.length) {
    lines.push(`  certified accuracy at ρ (${s.unit}):`);
    for (const rho of rhos) lines.push(`    ${String(rho).padStart(4)}  ${pct(s.certifiedAccuracy[String(rho)]!)}`);
  }
  return lines.join('\n');
}
