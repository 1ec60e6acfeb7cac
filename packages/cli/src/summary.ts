import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { readMeta } from './jsonl.js';

export interface Summary {
  file: string;
  /** What made the run, from the sidecar: e.g. "ablation(k=45)", and the radius unit. */
  perturbation: string | null;
  unit: string;
  count: number;
  /**
   * Which procedure `accuracy` and `abstainRate` come from: "predict" (Cohen et al.'s PREDICT, the paper's
   * "classification accuracy") when every row carries PREDICT (`certify --predict` rows, or `ablate predict`
   * rows), else "certify" (CERTIFY's outcome: abstain when pA_lower ≤ ½).
   */
  accuracySource: 'predict' | 'certify';
  /** Fraction correct and not abstained, by `accuracySource`. */
  accuracy: number;
  abstainRate: number;
  /** CERTIFY's figures (abstain when pA_lower ≤ ½), whatever the source; null for `ablate predict` files. */
  certifyAccuracy: number | null;
  certifyAbstainRate: number | null;
  /** Paper convention: misclassified or abstained images count as −∞; null when that median is −∞. */
  medianCertifiedRadius: number | null;
  /** ρ → fraction of images certified correct with radius ≥ ρ (ρ = 0 … max radius). */
  certifiedAccuracy: Record<string, number>;
}

interface Row {
  index: number;
  label?: number;
  prediction: number | null;
  correct: boolean;
  radius?: number | null;
  pLower?: number;
  predict?: { prediction: number | null };
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
  const fraction = (test: (r: Row) => boolean) => unique.filter(test).length / count;
  // `ablate predict` rows are PREDICT rows themselves; certify rows carry PREDICT under `predict` (--predict).
  const predictRows = meta ? meta.command === 'predict' : unique.every((r) => !('pLower' in r) && 'pValue' in r);
  const withPredict = unique.filter((r) => r.predict !== undefined).length;
  if (!predictRows && withPredict > 0 && withPredict < count) {
    throw new UsageError('FILE', `${file}: ${withPredict} of ${count} rows carry PREDICT results, the others do not`, 'summarize files written by one `certify` run (with or without --predict), or finish the run with the same flags');
  }
  // CERTIFY's outcome: its prediction is null when pA_lower ≤ ½; `correct` is prediction === label.
  const certify = predictRows ? null : { accuracy: fraction((r) => r.correct && r.prediction !== null), abstainRate: fraction((r) => r.prediction === null) };
  const predict =
    predictRows || withPredict > 0
      ? (() => {
          const of = (r: Row) => (predictRows ? r.prediction : r.predict!.prediction);
          return { accuracy: fraction((r) => of(r) !== null && of(r) === r.label), abstainRate: fraction((r) => of(r) === null) };
        })()
      : null;
  const { accuracy, abstainRate } = (predict ?? certify)!;
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
    accuracySource: predict ? 'predict' : 'certify',
    accuracy,
    abstainRate,
    certifyAccuracy: certify?.accuracy ?? null,
    certifyAbstainRate: certify?.abstainRate ?? null,
    medianCertifiedRadius: hasRadii ? median : null,
    certifiedAccuracy,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** How each accuracy source is named in text output and plot legends. */
export const SOURCE_LABEL = {
  predict: 'PREDICT, binomial test of the top two counts',
  certify: 'from CERTIFY, abstain when pA_lower ≤ ½',
} as const;

/** Human-readable summary. */
export function formatSummary(s: Summary): string {
  const lines = [
    `${s.file}${s.perturbation ? ` (${s.perturbation})` : ''}`,
    `  images: ${s.count}`,
    `  classification accuracy (${SOURCE_LABEL[s.accuracySource]}): ${pct(s.accuracy)} (abstained ${pct(s.abstainRate)})`,
    ...(s.accuracySource === 'predict' && s.certifyAccuracy !== null
      ? [`  CERTIFY accuracy (${SOURCE_LABEL.certify}): ${pct(s.certifyAccuracy)} (abstained ${pct(s.certifyAbstainRate!)})`]
      : []),
    `  median certified robustness: ${s.medianCertifiedRadius === null ? 'N/A' : `${s.medianCertifiedRadius} ${s.unit}`} (misclassified/abstained count as −∞)`,
  ];
  const rhos = Object.keys(s.certifiedAccuracy).map(Number);
  if (rhos.length) {
    lines.push(`  certified accuracy at ρ (${s.unit}):`);
    for (const rho of rhos) lines.push(`    ${String(rho).padStart(4)}  ${pct(s.certifiedAccuracy[String(rho)]!)}`);
  }
  return lines.join('\n');
}
