import { binomialTestPValue, checkSchedule, clopperPearsonLower, radiusFunction, type AblateRuntime, type Certificate, type RobustnessBound, type SequentialCertifier, type VoteSampler } from '@ablate/core';
import type { CertifyRow, PredictField, PredictRow, PredictSettings } from '../commands/run-dataset.js';

/**
 * What the coordinator knows about its run, to check a worker's rows against: its runtime (dataset labels, the
 * certifier and the perturbation's bound, the same objects a local run uses) and PREDICT's settings.
 */
export interface RowCheck {
  kind: 'certify' | 'predict';
  rt: AblateRuntime;
  predict?: PredictSettings;
}

/** A returned row that contradicts the run: the field (a JSON pointer in the row) and why. */
export interface RowProblem {
  field: string;
  message: string;
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/**
 * Checks one row a worker returned before it is written: the label is the coordinator's own dataset's, `correct`
 * follows from prediction and label, the prediction is a class of the model, counts are integers within the run's
 * n (and n0), `seconds` is finite, and the certificate is recomputed from the counts with the run's certifier
 * (core's code, driven by a sampler that replays the counts):
 * - cohen: pLower = CP_lower(nA, n, α) and the radius (Corollary 1) exactly;
 * - lecuyer: pLower exactly; the radius at most the one of the most favourable runner-up counts (Corollary 2),
 *   since the row does not carry the other classes' counts;
 * - sequential: n is a check of the schedule, pLower lies between CP_lower(nA, n, α_j) and the largest bound any
 *   earlier check could have given with at most nA votes, and the radius is exactly radius(pLower);
 * - vote-gap: pLower = nA/T and the radius at most the vote-gap radius of (nA, nB).
 * PREDICT (rows or the `predict` field): nA ≥ nB, nA + nB ≤ n, the p-value exactly the two-sided binomial test of
 * nA against nB, abstaining exactly when it exceeds α (fixed n), n the run's (a check of the schedule when
 * sequential). Returns undefined when the row holds.
 */
export async function rowProblem(check: RowCheck, row: CertifyRow | PredictRow): Promise<RowProblem | undefined> {
  const { rt } = check;
  const dataset = rt.dataset!;
  const p = (field: string, message: string): RowProblem => ({ field, message });
  const label = dataset.get(row.index).label;
  if (row.label !== label) return p('/label', `${row.label}, but image ${row.index} of ${dataset.name} has label ${label}`);
  const classes = rt.classifier.numClasses;
  if (row.prediction !== null && !(isCount(row.prediction) && row.prediction < classes)) return p('/prediction', `${row.prediction} is not a class of the model (${classes} classes)`);
  if (row.correct !== (row.prediction === row.label)) return p('/correct', `${row.correct}, but prediction ${row.prediction} and label ${row.label}`);
  if (!(Number.isFinite(row.seconds) && row.seconds >= 0)) return p('/seconds', `${row.seconds} is not a finite number ≥ 0`);
  if (check.kind === 'predict') {
    const r = row as PredictRow;
    if (r.samples !== r.n) return p('/samples', `${r.samples}, but a predict row spends n = ${r.n}`);
    return predictProblem(check, r, '');
  }
  const r = row as CertifyRow;
  if (r.predict !== undefined) {
    if (!check.predict) return p('/predict', 'present, but the run has no --predict');
    const problem = predictProblem(check, { ...r.predict, prediction: r.predict.prediction }, '/predict');
    if (problem) return problem;
  } else if (check.predict) return p('/predict', 'missing, but the run has --predict');
  return certificateProblem(rt, r);
}

function predictProblem(check: RowCheck, r: PredictField, at: string): RowProblem | undefined {
  const p = (field: string, message: string): RowProblem => ({ field: `${at}${field}`, message });
  const settings = check.predict!;
  const alpha = check.rt.certifier.alpha;
  for (const k of ['nA', 'nB', 'n'] as const) if (!isCount(r[k])) return p(`/${k}`, `${r[k]} is not a count`);
  const classes = check.rt.classifier.numClasses;
  if (r.prediction !== null && !(isCount(r.prediction) && r.prediction < classes)) return p('/prediction', `${r.prediction} is not a class of the model (${classes} classes)`);
  if (settings.sequential) {
    // (the run's sequential PREDICT uses the default schedule: see predictSettings and SmoothedClassifier.predict)
    if (!checkSchedule(settings.n, alpha).counts.includes(r.n)) {
      return p('/n', `${r.n} is not a check of the run's sequential PREDICT schedule (at most ${settings.n} samples)`);
    }
  } else if (r.n !== settings.n) return p('/n', `${r.n}, but the run's PREDICT draws n = ${settings.n}`);
  if (r.nA < r.nB || r.nA + r.nB > r.n) return p('/nA', `nA = ${r.nA}, nB = ${r.nB} are not the top two counts of n = ${r.n} votes`);
  const pValue = binomialTestPValue(r.nA, r.nA + r.nB);
  if (r.pValue !== pValue) return p('/pValue', `${r.pValue}, but the binomial test of ${r.nA} against ${r.nB} gives ${pValue}`);
  if (r.prediction !== null && pValue > alpha) return p('/prediction', `${r.prediction}, but the p-value ${pValue} exceeds α = ${alpha}: PREDICT abstains`);
  if (r.prediction === null && !settings.sequential && pValue <= alpha) return p('/prediction', `null, but the p-value ${pValue} is ≤ α = ${alpha}: PREDICT answers`);
  return undefined;
}

/** A sampler that replays a row's counts: ĉA wins the selection, then nA of the n estimation votes are ĉA's and the rest as evenly spread over the other classes as possible. */
function replay(classes: number, guess: number, nA: number): VoteSampler {
  return async (num, phase) => {
    const counts = new Uint32Array(classes);
    if (phase === 'selection') counts[guess] = num;
    else {
      counts[guess] = Math.min(nA, num);
      const rest = num - counts[guess]!;
      for (let j = 0, k = 0; j < classes; j++) if (j !== guess) counts[j] = Math.floor(rest / (classes - 1)) + (k++ < rest % (classes - 1) ? 1 : 0);
    }
    return counts;
  };
}

async function certificateProblem(rt: AblateRuntime, r: CertifyRow): Promise<RowProblem | undefined> {
  const p = (field: string, message: string): RowProblem => ({ field, message });
  const certifier = rt.certifier;
  const shape = rt.dataset!.shape;
  const bound: RobustnessBound = rt.perturbation.bound(shape);
  const classes = rt.classifier.numClasses;
  for (const k of ['nA', 'n', 'samples'] as const) if (!isCount(r[k])) return p(`/${k}`, `${r[k]} is not a count`);
  if (r.nA > r.n) return p('/nA', `${r.nA} votes out of n = ${r.n}`);
  if (!(typeof r.pLower === 'number' && r.pLower >= 0 && r.pLower <= 1)) return p('/pLower', `${r.pLower} is not a probability`);
  if ((r.prediction === null) !== (r.radius === null)) return p('/radius', `${r.radius} with prediction ${r.prediction}: a certificate has both or neither`);
  const same = (c: Certificate, exactRadius: boolean): RowProblem | undefined => {
    if (r.pLower !== c.pLower) return p('/pLower', `${r.pLower}, but the certifier gives ${c.pLower} for nA = ${r.nA} of n = ${r.n}`);
    if (r.prediction === null) return exactRadius && c.prediction !== null ? p('/prediction', `null, but nA = ${r.nA} of n = ${r.n} certifies radius ${c.radius}`) : undefined;
    if (c.prediction === null) return p('/radius', `${r.radius}, but nA = ${r.nA} of n = ${r.n} certifies nothing (the certifier abstains)`);
    if (exactRadius ? r.radius !== c.radius : !(r.radius! <= c.radius!)) return p('/radius', `${r.radius}, but nA = ${r.nA} of n = ${r.n} certifies ${exactRadius ? '' : 'at most '}${c.radius}`);
    return undefined;
  };
  // Only a deterministic certifier's rows carry the runner-up's votes and the `deterministic` mark.
  const exact = certifier.deterministic === true;
  if (('nB' in r) !== exact) return p('/nB', exact ? 'missing from a vote-gap row' : `present, but the ${certifier.type} certifier reports no runner-up count`);
  if (('deterministic' in r) !== exact) return p('/deterministic', exact ? 'missing from a vote-gap row' : `present, but ${certifier.type} certificates hold with probability 1 − α, not always`);
  const guess = r.prediction ?? 0;
  switch (certifier.type) {
    case 'cohen':
    case 'lecuyer': {
      if (r.n !== certifier.n) return p('/n', `${r.n}, but the run draws n = ${certifier.n}`);
      if (r.samples !== certifier.n0 + certifier.n) return p('/samples', `${r.samples}, but the run spends n0 + n = ${certifier.n0 + certifier.n}`);
      return same(await certifier.certify(replay(classes, guess, r.nA), bound), certifier.type === 'cohen');
    }
    case 'sequential': {
      const seq = certifier as SequentialCertifier;
      const n0 = r.samples - r.n;
      if (!(n0 >= 1 && n0 <= seq.n0)) return p('/samples', `${r.samples} with n = ${r.n}: ${n0} selection samples, but the run selects with 1 to ${seq.n0}`);
      if (r.n === 0) return r.prediction === null && r.nA === 0 && r.pLower === 0 ? undefined : p('/pLower', 'a certificate without estimation samples must abstain with pLower 0');
      const { counts, alphas } = checkSchedule(seq.maxSamples - n0, seq.alpha, seq.schedule);
      const j = counts.indexOf(r.n);
      if (j < 0) return p('/n', `${r.n} is not a check of the run's schedule after ${n0} selection samples`);
      let most = 0;
      for (let i = 0; i <= j; i++) most = Math.max(most, clopperPearsonLower(Math.min(r.nA, counts[i]!), counts[i]!, alphas[i]!));
      const least = clopperPearsonLower(r.nA, r.n, alphas[j]!);
      if (!(r.pLower >= least && r.pLower <= most)) return p('/pLower', `${r.pLower}, but nA = ${r.nA} of n = ${r.n} bounds it in [${least}, ${most}]`);
      const rL = radiusFunction(bound)(r.pLower);
      if (rL < 0 ? r.prediction !== null : r.radius !== rL) return p('/radius', `${r.radius}, but pLower ${r.pLower} certifies ${rL < 0 ? 'nothing' : rL}`);
      return undefined;
    }
    case 'vote-gap': {
      const enumeration = rt.perturbation.enumeration?.(shape);
      if (!enumeration) return p('/n', 'the run’s perturbation enumerates no ablations');
      const nB = r.nB;
      if (!isCount(nB) || nB > r.nA || r.nA + nB > r.n) return p('/nB', `${nB} is not the runner-up count below nA = ${r.nA} of n = ${r.n}`);
      if (r.n !== enumeration.count || r.samples !== enumeration.count) return p('/n', `${r.n}, but the run has T = ${enumeration.count} ablations`);
      if (r.prediction === null) return p('/prediction', 'null, but vote-gap never abstains');
      // The most favourable runner-up: the class after ĉA (ties go to ĉA).
      const b = guess + 1 < classes ? guess + 1 : guess - 1;
      const votes = new Uint32Array(classes);
      votes[guess] = r.nA;
      if (b >= 0) votes[b] = nB;
      const sampler: VoteSampler = async () => votes;
      sampler.enumerate = async () => ({ counts: votes, total: enumeration.count, affected: (rho) => enumeration.affected(rho) });
      const c = await certifier.certify(sampler, bound);
      return same({ ...c, pLower: r.nA / r.n }, false);
    }
    default:
      // A plug-in certifier: ablate cannot know how its certificate follows from its counts; only the checks above
      // and the audit (--audit) apply (docs/distributed.md).
      return undefined;
  }
}
