import { UsageError } from './errors.js';
import { predictSampleCount, type PredictSampleConfig } from './predict-samples.js';
import { readMeta } from './results/index.js';
import { MAX_RESULTS_FILE_BYTES, readWholeFile } from './read-whole.js';

/** What `ablate summarize` reports for one result file. */
export interface Summary {
  file: string;
  /** What made the run, from the sidecar: e.g. "ablation(k=45)", and the radius unit. */
  perturbation: string | null;
  unit: string;
  count: number;
  /**
   * Which procedure `accuracy` and `abstainRate` come from: "predict" (Cohen et al.'s PREDICT, the paper's
   * "classification accuracy") when every row carries PREDICT (`certify --predict` rows, `ablate predict` rows,
   * or an attack on the smoothed classifier, whose queries are PREDICT), "base" for an attack run with
   * `--target base` (the base model's argmax, no smoothing), else "certify" (CERTIFY's outcome: abstain when
   * pA_lower ≤ ½).
   */
  accuracySource: 'predict' | 'certify' | 'base';
  /** Fraction correct and not abstained, by `accuracySource`. */
  accuracy: number;
  abstainRate: number;
  /** CERTIFY's figures (abstain when pA_lower ≤ ½), whatever the source; null for `ablate predict` files. */
  certifyAccuracy: number | null;
  certifyAbstainRate: number | null;
  /** Paper convention: misclassified or abstained images count as −∞; null when that median is −∞. */
  medianCertifiedRadius: number | null;
  /**
   * ρ → fraction of images certified correct with radius ≥ ρ. Thresholds: every integer 0 … max when the radii
   * are integers up to INTEGER_GRID_MAX (L0 runs: the paper's tables); otherwise 0 and each distinct certified
   * radius (real-valued L2 radii, or absurdly large ones) — the curve is a step function that only changes there.
   */
  certifiedAccuracy: Record<string, number>;
  /** Base-classifier evaluations per image (selection + estimation): rows' `samples`, or n0 + n of a fixed-n
   *  certifier from the sidecar for files written before rows had it; absent when unknown. */
  samples?: { mean: number; median: number };
  /** True when every certificate is deterministic (vote-gap: cannot be wrong, α = 0). */
  deterministic: boolean;
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
  /** ρ → fraction of images with no adversarial example of ≤ ρ pixels found: the empirical robust accuracy (ρ = 0 … max magnitude when that is ≤ INTEGER_GRID_MAX, else 0 and each magnitude found). */
  empiricalAccuracy: Record<string, number>;
  /**
   * Confirmed attack files (`ablate attack` on the smoothed classifier): every reported example passed a fresh
   * PREDICT with `n` samples (the distinct n's of the rows); `walkedBack`: images whose search ended on an example
   * the confirmation rejected, reported further back on the search's path; `noneConfirmed`: images with no
   * confirmed example (counted as +∞). Absent for files without confirmations (e.g. `--target base`).
   */
  confirmation?: { n: number[]; confirmed: number; walkedBack: number; noneConfirmed: number };
}

interface Row {
  index: number;
  label?: number;
  prediction: number | null;
  correct: boolean;
  radius?: number | null;
  pLower?: number;
  predict?: { prediction: number | null; n?: number };
  samples?: number;
  deterministic?: boolean;
  n?: number;
  /** Attack rows (`ablate attack`): pixel locations changed in the best adversarial example; null = none found. */
  magnitude?: number | null;
  /** Confirmed attack rows: the fresh PREDICT that confirmed the example, and where the search itself ended. */
  confirmed?: { n: number; prediction: number | null } | null;
  searchMagnitude?: number | null;
}

/** Up to this radius, integer radii get a threshold at every integer (0, 1, 2, …); beyond it, only the radii that occur. */
export const INTEGER_GRID_MAX = 1000;

/** Checks a parsed line is a row summarize can count; returns why not. */
function rowProblem(row: unknown): string | undefined {
  if (!row || typeof row !== 'object' || Array.isArray(row)) return 'is not a JSON object';
  const r = row as Record<string, unknown>;
  if (typeof r.index !== 'number' || !Number.isInteger(r.index) || r.index < 0) return `has no integer "index" ≥ 0 (got ${JSON.stringify(r.index)?.slice(0, 40)})`;
  if ('magnitude' in r) {
    // an attack row (`ablate attack`)
    if (r.magnitude !== null && !(typeof r.magnitude === 'number' && Number.isInteger(r.magnitude) && r.magnitude >= 0)) {
      return `has a "magnitude" that is neither an integer ≥ 0 nor null (got ${JSON.stringify(r.magnitude)?.slice(0, 40)})`;
    }
    if ('confirmed' in r) return confirmationProblem(r);
    return undefined;
  }
  if (typeof r.correct !== 'boolean') return 'has no boolean "correct"';
  if (r.prediction !== null && typeof r.prediction !== 'number') return 'has a "prediction" that is neither a class number nor null';
  if ('radius' in r && r.radius !== null && !(typeof r.radius === 'number' && Number.isFinite(r.radius) && r.radius >= 0)) {
    return `has a "radius" that is neither a number ≥ 0 nor null (got ${JSON.stringify(r.radius)?.slice(0, 40)})`;
  }
  return undefined;
}

type RowKind = 'attack' | 'certify' | 'predict';
const KIND_NAME: Record<RowKind, string> = { attack: 'an attack row', certify: 'a certify row', predict: 'a predict row' };

/** Which command wrote a row: attack rows have `magnitude`, predict rows `pValue` and no `pLower`, else certify. */
function rowKind(r: Record<string, unknown>): RowKind {
  if ('magnitude' in r) return 'attack';
  if ('pValue' in r && !('pLower' in r)) return 'predict';
  return 'certify';
}

const isCount = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isProbability = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

/**
 * Why a row contradicts itself, if it does: `correct` that is not "prediction = label", a radius for an abstention
 * (or none for a randomized prediction), counts that are not integers with nA (+ nB) ≤ n, probabilities outside
 * [0, 1], or a `predict` field of the same kind. Such a row was not written by ablate, and counting it would lie.
 */
function rowContradiction(r: Record<string, unknown>): string | undefined {
  if ('label' in r && !isCount(r.label)) return `has a "label" that is not a class number (got ${JSON.stringify(r.label)?.slice(0, 40)})`;
  if ('magnitude' in r) return undefined;
  if (r.prediction !== null && !isCount(r.prediction)) return `has a "prediction" that is neither a class number nor null (got ${JSON.stringify(r.prediction)?.slice(0, 40)})`;
  if ('label' in r && r.correct !== (r.prediction !== null && r.prediction === r.label)) {
    return `contradicts itself: "correct" is ${r.correct} but the prediction is ${r.prediction} and the label ${r.label}`;
  }
  if ('radius' in r && r.deterministic !== true && (r.radius === null) !== (r.prediction === null)) {
    return `contradicts itself: ${r.prediction === null ? `an abstention (prediction null) with radius ${r.radius}` : `prediction ${r.prediction} without a radius`}`;
  }
  for (const key of ['nA', 'nB', 'n', 'samples'] as const) {
    if (key in r && !isCount(r[key])) return `has a "${key}" that is not a count (an integer ≥ 0; got ${JSON.stringify(r[key])?.slice(0, 40)})`;
  }
  if (isCount(r.n) && isCount(r.nA) && r.nA + (isCount(r.nB) ? r.nB : 0) > r.n) {
    return `contradicts itself: nA ${r.nA}${isCount(r.nB) ? ` + nB ${r.nB}` : ''} votes out of n = ${r.n} samples`;
  }
  for (const key of ['pLower', 'pValue'] as const) {
    if (key in r && !isProbability(r[key])) return `has a "${key}" outside [0, 1] (got ${JSON.stringify(r[key])?.slice(0, 40)})`;
  }
  if (r.predict !== undefined) {
    const p = r.predict as Record<string, unknown> | null;
    if (!p || typeof p !== 'object' || Array.isArray(p)) return 'has a "predict" field that is not an object';
    if (p.prediction !== null && !isCount(p.prediction)) return 'has a "predict.prediction" that is neither a class number nor null';
    for (const key of ['nA', 'nB', 'n'] as const) if (key in p && !isCount(p[key])) return `has a "predict.${key}" that is not a count`;
    if (isCount(p.n) && isCount(p.nA) && p.nA + (isCount(p.nB) ? p.nB : 0) > p.n) {
      return `contradicts itself: predict.nA ${p.nA}${isCount(p.nB) ? ` + predict.nB ${p.nB}` : ''} votes out of predict.n = ${p.n} samples`;
    }
    if ('pValue' in p && !isProbability(p.pValue)) return 'has a "predict.pValue" outside [0, 1]';
  }
  return undefined;
}

/** A confirmed attack row must be consistent: an example iff a confirmation, and the confirmation not the label. */
function confirmationProblem(r: Record<string, unknown>): string | undefined {
  const c = r.confirmed;
  if (r.searchMagnitude !== null && !isCount(r.searchMagnitude)) return 'has a "searchMagnitude" that is neither an integer ≥ 0 nor null';
  if (c === null) return r.magnitude === null ? undefined : `reports an example (magnitude ${r.magnitude}) without its confirmation ("confirmed": null)`;
  if (!c || typeof c !== 'object' || Array.isArray(c)) return 'has a "confirmed" that is neither an object nor null';
  const o = c as Record<string, unknown>;
  if (!isCount(o.n, 1)) return 'has a confirmation without an integer "n" ≥ 1';
  if (o.prediction !== null && !isCount(o.prediction)) return 'has a confirmation whose "prediction" is neither a class number nor null';
  if (r.magnitude === null) return 'has a confirmation but no example ("magnitude": null)';
  if (o.prediction === r.label) return `has a confirmation that returned its label ${r.label}: the example is not adversarial`;
  return undefined;
}

/**
 * The paper's median certified robustness (Levine & Feizi 2020, §"Evaluation"): the median of the certified
 * radii with misclassified or abstained images counted as −∞ — "equivalently, the maximum ρ for which the
 * certified accuracy at ρ is at least 0.5", i.e. the ⌈N/2⌉-th largest value (the upper median for even N).
 * null when that value is −∞. Exact for real-valued radii too.
 */
export function medianCertifiedRadius(radii: readonly number[]): number | null {
  if (radii.length === 0) return null;
  const sorted = [...radii].sort((a, b) => b - a);
  const m = sorted[Math.ceil(sorted.length / 2) - 1]!;
  return Number.isFinite(m) ? m : null;
}

/** Certified accuracy at each threshold (see Summary.certifiedAccuracy); −∞ entries are never certified. */
export function certifiedAccuracyCurve(radii: readonly number[]): Record<string, number> {
  const certified = radii.filter(Number.isFinite).sort((a, b) => a - b);
  if (certified.length === 0) return {};
  const max = certified[certified.length - 1]!;
  const thresholds =
    certified.every(Number.isInteger) && max <= INTEGER_GRID_MAX ? Array.from({ length: max + 1 }, (_, i) => i) : [...new Set([0, ...certified])];
  const curve: Record<string, number> = {};
  let below = 0; // certified radii < ρ (thresholds ascend)
  for (const rho of thresholds) {
    while (below < certified.length && certified[below]! < rho) below++;
    curve[String(rho)] = (certified.length - below) / radii.length;
  }
  return curve;
}

/**
 * Samples one row cost: its own field (plus PREDICT's, for a certify --predict row), else what a fixed-n run of
 * the sidecar's config spends per image (PREDICT's count by `predictSampleCount`, as the run resolved it).
 */
function rowSamples(row: Row, meta: ReturnType<typeof readMeta>): number | undefined {
  const config = (meta?.config ?? {}) as PredictSampleConfig & { certifier?: { n0?: unknown }; predict?: { sequential?: unknown } | null };
  // PREDICT's samples in a certify --predict row: its own n, else the fixed count of the run (not for sequential PREDICT)
  const predictSamples = () => (row.predict === undefined ? 0 : typeof row.predict.n === 'number' ? row.predict.n : config.predict?.sequential ? undefined : predictSampleCount(config));
  if (typeof row.samples === 'number') {
    const p = predictSamples();
    return p === undefined ? undefined : row.samples + p;
  }
  const c = config.certifier;
  if (meta?.command === 'certify' && (c?.type === 'cohen' || c?.type === 'lecuyer') && typeof c.n0 === 'number' && typeof c.n === 'number') {
    const p = predictSamples();
    return p === undefined ? undefined : c.n0 + c.n + p;
  }
  if (meta?.command === 'predict' && !config.predict?.sequential && typeof row.n === 'number') return row.n;
  return undefined;
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Median with +∞ for null (no adversarial found), the paper's convention; null when the median is +∞. The
 * empirical-accuracy thresholds follow `certifiedAccuracyCurve`: every integer 0 … max when the largest magnitude
 * is at most INTEGER_GRID_MAX, else 0 and each distinct magnitude (the curve only changes there), so a row
 * claiming a magnitude of 10¹² costs no more than one of 10; one sweep over the sorted magnitudes, no spread
 * (a million rows cannot overflow the stack).
 */
function attackSummary(rows: readonly Row[]): AttackSummary {
  const m = rows.map((r) => (typeof r.magnitude === 'number' ? r.magnitude : Infinity)).sort((a, b) => a - b);
  // as the certified median: the largest ρ with at least half the images at magnitude ≥ ρ
  const median = m[Math.floor(m.length / 2)]!;
  const finiteCount = m.findIndex((v) => v === Infinity) === -1 ? m.length : m.findIndex((v) => v === Infinity);
  const max = finiteCount ? m[finiteCount - 1]! : 0;
  const thresholds = max <= INTEGER_GRID_MAX ? Array.from({ length: max + 1 }, (_, i) => i) : [...new Set([0, ...m.slice(0, finiteCount)])];
  const empiricalAccuracy: Record<string, number> = {};
  let atMost = 0; // magnitudes ≤ ρ (thresholds ascend)
  for (const rho of thresholds) {
    while (atMost < m.length && m[atMost]! <= rho) atMost++;
    empiricalAccuracy[String(rho)] = (m.length - atMost) / m.length;
  }
  const confirmedRows = rows.filter((r) => 'confirmed' in r);
  return {
    medianAdversarialMagnitude: Number.isFinite(median) ? median : null,
    misclassified: m.filter((v) => v === 0).length,
    notFound: m.length - finiteCount,
    empiricalAccuracy,
    ...(confirmedRows.length
      ? {
          confirmation: {
            n: [...new Set(confirmedRows.flatMap((r) => (r.confirmed ? [r.confirmed.n] : [])))].sort((a, b) => a - b),
            confirmed: confirmedRows.filter((r) => r.confirmed).length,
            walkedBack: confirmedRows.filter((r) => typeof r.magnitude === 'number' && typeof r.searchMagnitude === 'number' && r.magnitude > r.searchMagnitude).length,
            noneConfirmed: confirmedRows.filter((r) => r.magnitude === null).length,
          },
        }
      : {}),
  };
}

/**
 * Reads a results file (ignoring a torn last line) and computes the paper's statistics. `text`: the file's
 * contents when the caller has already read it (once: `ablate report` summarizes and shows the same bytes).
 */
export function summarize(file: string, options: { include?: (index: number) => boolean; text?: string } = {}): Summary {
  const text = options.text ?? readWholeFile(file, { flag: 'FILE', maxBytes: MAX_RESULTS_FILE_BYTES }).toString('utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const rows: Row[] = [];
  let first: { kind: RowKind; line: number } | undefined;
  for (const [i, line] of complete.split('\n').entries()) {
    if (!line.trim()) continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new UsageError('FILE', `${file}:${i + 1} is not JSON`, 'is it a results file of ablate certify or predict?');
    }
    const problem = rowProblem(row) ?? rowContradiction(row as Record<string, unknown>);
    if (problem) throw new UsageError('FILE', `${file}:${i + 1} ${problem}`, 'is it a results file of ablate certify or predict?');
    // one file holds the rows of one run: certify, predict or attack rows, never a mix
    const kind = rowKind(row as Record<string, unknown>);
    if (first === undefined) first = { kind, line: i + 1 };
    else if (kind !== first.kind) {
      throw new UsageError('FILE', `${file}:${i + 1} is ${KIND_NAME[kind]}, but line ${first.line} is ${KIND_NAME[first.kind]}: a results file holds the rows of one run`, 'summarize each run’s file on its own');
    }
    rows.push(row as Row);
  }
  const byIndex = new Map(rows.filter((r) => !options.include || options.include(r.index)).map((r) => [r.index, r]));
  const unique = [...byIndex.values()];
  const count = unique.length;
  if (count === 0) throw new UsageError('FILE', `${file} has no results`);
  const meta = readMeta(file);
  if (meta && first && ['certify', 'predict', 'attack'].includes(meta.command) && meta.command !== first.kind) {
    throw new UsageError('FILE', `${file}:${first.line} is ${KIND_NAME[first.kind]}, but its sidecar says the file was written by \`ablate ${meta.command}\``, 'is the sidecar of another file? summarize the file its run wrote');
  }
  if (unique.some((r) => 'magnitude' in r)) {
    const confirmedRows = unique.filter((r) => 'confirmed' in r).length;
    if (confirmedRows > 0 && confirmedRows < count) {
      throw new UsageError('FILE', `${file}: ${confirmedRows} of ${count} attack rows carry a confirmation, the others do not`, 'summarize files written by one `ablate attack` run');
    }
    const attack = attackSummary(unique);
    return {
      file,
      perturbation: meta?.perturbation ?? null,
      unit: meta?.unit ?? 'pixels',
      count,
      // the original image's decision: magnitude 0 = misclassified or abstained (the paper's convention), by the
      // oracle the attack queried: the smoothed classifier's PREDICT, or the base model (`attack --target base`)
      accuracySource: (meta?.config as { target?: unknown } | undefined)?.target === 'base' ? 'base' : 'predict',
      accuracy: (count - attack.misclassified) / count,
      abstainRate: 0,
      certifyAccuracy: null,
      certifyAbstainRate: null,
      medianCertifiedRadius: null,
      certifiedAccuracy: {},
      deterministic: false,
      attack,
    };
  }
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
  const hasRadii = unique.some((r) => 'radius' in r);
  const perImage = unique.map((r) => rowSamples(r, meta));
  const known = perImage.filter((s): s is number => s !== undefined);
  const samples = known.length === count ? { mean: known.reduce((a, b) => a + b, 0) / count, median: medianOf(known) } : undefined;
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
    medianCertifiedRadius: hasRadii ? medianCertifiedRadius(radii) : null,
    certifiedAccuracy: certifiedAccuracyCurve(radii),
    ...(samples ? { samples } : {}),
    deterministic: unique.every((r) => r.deterministic === true),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
/** A radius in its unit; patch certificates (band smoothing) read as an m×m patch. */
const radiusText = (r: number, unit: string) => (unit === 'patch side' ? `${r}×${r} patch` : `${r} ${unit}`);

/** How each accuracy source is named in text output and plot legends. */
export const SOURCE_LABEL = {
  predict: 'PREDICT, binomial test of the top two counts',
  certify: 'from CERTIFY, abstain when pA_lower ≤ ½',
  base: 'base classifier argmax, no smoothing',
} as const;

/** Human-readable summary. */
export function formatSummary(s: Summary): string {
  if (s.attack) {
    const a = s.attack;
    return [
      `${s.file}${s.perturbation ? ` (${s.perturbation})` : ''} — attack`,
      `  images: ${s.count}`,
      `  clean accuracy (${SOURCE_LABEL[s.accuracySource]}): ${pct(s.accuracy)} (${a.misclassified} ${s.accuracySource === 'base' ? 'misclassified' : 'misclassified or abstained'}, counted as 0)`,
      `  median adversarial magnitude: ${a.medianAdversarialMagnitude === null ? '+∞' : `${a.medianAdversarialMagnitude} ${s.unit}`} (no adversarial found counts as +∞: ${a.notFound} images)`,
      ...(a.confirmation
        ? [
            `  confirmed by a fresh PREDICT (n = ${a.confirmation.n.join(', ') || '—'}): ${a.confirmation.confirmed} of ${s.count} images; ` +
              `walked back from an unconfirmed search end on ${a.confirmation.walkedBack}; none confirmed on ${a.confirmation.noneConfirmed}`,
          ]
        : []),
    ].join('\n');
  }
  const lines = [
    `${s.file}${s.perturbation ? ` (${s.perturbation})` : ''}`,
    `  images: ${s.count}`,
    `  classification accuracy (${SOURCE_LABEL[s.accuracySource]}): ${pct(s.accuracy)} (abstained ${pct(s.abstainRate)})`,
    ...(s.accuracySource === 'predict' && s.certifyAccuracy !== null
      ? [`  CERTIFY accuracy (${SOURCE_LABEL.certify}): ${pct(s.certifyAccuracy)} (abstained ${pct(s.certifyAbstainRate!)})`]
      : []),
    `  median certified robustness: ${s.medianCertifiedRadius === null ? 'N/A' : radiusText(s.medianCertifiedRadius, s.unit)} (misclassified/abstained count as −∞)`,
  ];
  if (s.samples) {
    const exact = s.deterministic ? ' (deterministic certificates: never wrong, α = 0)' : '';
    lines.push(`  samples per image: mean ${+s.samples.mean.toFixed(1)}, median ${s.samples.median} (base-classifier evaluations)${exact}`);
  }
  const rhos = Object.keys(s.certifiedAccuracy).map(Number);
  if (rhos.length) {
    lines.push(`  certified accuracy at ρ (${s.unit}):`);
    for (const rho of rhos) lines.push(`    ${String(rho).padStart(4)}  ${pct(s.certifiedAccuracy[String(rho)]!)}`);
  }
  return lines.join('\n');
}
