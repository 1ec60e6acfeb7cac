import { bestParameter, planSamples } from '@ablate/core';
import { UsageError } from '../errors.js';
import { MAX_CURVE_FILE_BYTES, readWholeFile } from '../read-whole.js';
import { boundFromFlags, checkAlpha, checkProbability, curveParameterName, needFlag, withFlags, withFlagsAsync, type BoundFlags } from './bound-flags.js';

export interface PlanOptions extends BoundFlags {
  alpha: number;
  /** Question 1: samples for radius ρ at p_A. */
  radius?: number;
  pA?: number;
  maxSamples: number;
  n0: number;
  simulations: number;
  /** Question 2: "param:pA,param:pA,…" (k for ablation, κ for lee-noise, σ for gaussian), or a file of such pairs. */
  curve?: string;
  curveFile?: string;
  n: number;
  json?: boolean;
}

/** Parses "20:0.9, 45:0.97" or a file with one "param pA" / "param,pA" pair per line, or a JSON array. */
export function parseCurve(text: string, source: string): Array<{ param: number; pA: number }> {
  const trimmed = text.trim();
  let pairs: Array<[unknown, unknown]>;
  if (trimmed.startsWith('[')) {
    try {
      pairs = (JSON.parse(trimmed) as unknown[]).map((e) => (Array.isArray(e) ? [e[0], e[1]] : [(e as any)?.param ?? (e as any)?.k, (e as any)?.pA]));
    } catch (error) {
      throw new UsageError(source, `is not valid JSON: ${(error as Error).message}`);
    }
  } else {
    pairs = trimmed
      .split(/[\n;]+|,(?=\s*[\d.]+\s*[:\s]\s*[\d.])/)
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('#'))
      .map((s) => s.split(/\s*[:,\s]\s*/) as [string, string]);
  }
  // a number, or the text of one: never Number() of an array (Number([[45]]) is 45, and a deeply nested one
  // overflows the stack), of null (0) or of true (1)
  const toNumber = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);
  const show = (v: unknown) => (v !== null && typeof v === 'object' ? (Array.isArray(v) ? '[…]' : '{…}') : JSON.stringify(v));
  return pairs.map(([p, a], i) => {
    const param = toNumber(p);
    const pA = toNumber(a);
    if (!Number.isFinite(param) || !Number.isFinite(pA) || pA < 0 || pA > 1) {
      throw new UsageError(source, `entry ${i + 1} is not a (parameter, pA) pair with pA in [0, 1]: [${show(p)}, ${show(a)}]`, 'e.g. --curve 20:0.90,45:0.97,100:0.995');
    }
    return { param, pA };
  });
}

/** The planner: samples needed for radius ρ at α given p_A, and the best perturbation parameter for a p_A curve. */
export async function planCommand(o: PlanOptions): Promise<{ text: string; json: Record<string, unknown> }> {
  const need = (v: number | undefined, flag: string): number => needFlag(v, flag, o.perturbation);
  checkAlpha(o.alpha);
  const asksSamples = o.radius !== undefined || o.pA !== undefined;
  const asksCurve = o.curve !== undefined || o.curveFile !== undefined;
  if (!asksSamples && !asksCurve) throw new UsageError('plan', 'needs a question', 'give --radius R --p-a P (samples needed) and/or --curve k:pA,… (best parameter)');
  const json: Record<string, unknown> = { perturbation: o.perturbation, alpha: o.alpha };
  const text: string[] = [];
  if (asksSamples) {
    const radius = need(o.radius, '--radius');
    const pA = need(o.pA, '--p-a');
    checkProbability('--p-a', pA);
    const bound = boundFromFlags(o);
    if (!(radius >= 0 && radius <= bound.maxRadius)) throw new UsageError('--radius', `must be in [0, ${bound.maxRadius}] (${bound.unit}), got ${radius}`);
    if (o.n0 >= o.maxSamples) throw new UsageError('--n0', `(${o.n0}) must be < --max-samples (${o.maxSamples})`);
    const plan = await withFlagsAsync(() => planSamples({ bound, radius, pA, alpha: o.alpha, maxSamples: o.maxSamples, sequential: { n0: o.n0 }, simulations: o.simulations }));
    Object.assign(json, { radius, unit: bound.unit, pA, maxSamples: o.maxSamples, ...plan });
    text.push(
      plan.radiusAtPA === null || plan.radiusAtPA < radius
        ? `radius ${radius} ${bound.unit} is out of reach at pA = ${pA}: even infinitely many samples certify ${plan.radiusAtPA ?? 'nothing (abstain)'}`
        : `radius ${radius} ${bound.unit} at pA = ${pA}, α = ${o.alpha}:`,
      ...(plan.fixedN !== null ? [`  smallest fixed n (Cohen, estimation samples; add n0 for selection; a few larger n may not certify): ${plan.fixedN}`] : []),
      `  sequential, first sufficient check of the schedule (budget ${o.maxSamples}): ${plan.sequentialN ?? 'none within the budget'}`,
      ...(plan.fixedN !== null && pA < 1 ? ['  (both assume ⌊pA·n⌋ votes for the top class; random votes fall below that about half the time: docs/performance.md, "against its floor")'] : []),
      ...(plan.simulated
        ? [
            `  sequential, simulated (${plan.simulated.runs} runs, selection included): mean ${plan.simulated.meanSamples.toFixed(0)}, median ${plan.simulated.medianSamples} samples; certified ≥ ${radius} in ${(100 * plan.simulated.certifiedAtLeast).toFixed(1)}% of runs`,
          ]
        : []),
    );
  }
  if (asksCurve) {
    const curve = o.curveFile !== undefined ? parseCurve(readCurveFile(o.curveFile), '--curve-file') : parseCurve(o.curve!, '--curve');
    if (curve.length === 0) throw new UsageError('--curve', 'has no entries', 'e.g. --curve 20:0.90,45:0.97');
    const source = o.curveFile !== undefined ? '--curve-file' : '--curve';
    const { best, table } = withFlags(() => bestParameter(curve, (p) => boundFromFlags(o, { value: p, source }), o.n, o.alpha), { n: '--n', alpha: '--alpha', pA: source });
    const name = curveParameterName(o.perturbation);
    Object.assign(json, { n: o.n, best, table });
    if (text.length) text.push('');
    text.push(`best ${name} for this pA curve at n = ${o.n}, α = ${o.alpha}: ${best.param} (radius ${best.radiusAtN ?? 'abstain'})`);
    text.push(`  ${name.padStart(8)}  ${'pA'.padStart(8)}  radius at n  radius at pA`);
    for (const c of table) text.push(`  ${String(c.param).padStart(8)}  ${String(c.pA).padStart(8)}  ${String(c.radiusAtN ?? '—').padStart(11)}  ${String(c.radiusAtPA ?? '—').padStart(12)}`);
  }
  return { text: text.join('\n'), json };
}

function readCurveFile(file: string): string {
  return readWholeFile(file, { flag: '--curve-file', maxBytes: MAX_CURVE_FILE_BYTES }).toString('utf8');
}
