import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { readMeta } from './jsonl.js';

/** What `ablate summarize` reports for one result file. */
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
}

interface Row {
  index: number;
  prediction: number | null;
  correct: boolean;
  radius?: number | null;
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
