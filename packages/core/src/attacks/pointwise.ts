import { assertInteger } from '../math/validate.js';
import { MAX_ATTACK_RESTARTS } from '../limits.js';
import { Rng } from '../rng.js';
import { validateImage, type Image } from '../shape.js';
import { throwIfAborted } from '../errors.js';
import type { Attack, AttackConfirmation, AttackProgress, AttackResult, AttackRunOptions } from './attack.js';
import { attackStream, type Decide } from './decision.js';
import { PixelGrid, changedLocations } from './pixel-grid.js';

/** Options of the `pointwise` attack (config slot `attack`; defaults in the plug-in schema). @category Plug-in authors */
export interface PointwiseOptions {
  /** Independent restarts per image; the smallest adversarial is kept (paper: 10). */
  restarts?: number;
  /** Values per channel of the pixel grid (256 for 8-bit images). */
  levels?: number;
  /** Salt-and-pepper initialisation: noise probabilities p = j / initSteps · pMax, j = 1 … initSteps (foolbox 2: 100). */
  initSteps?: number;
  /** Salt-and-pepper repetitions, each searching up to 1.2 × the last successful p, keeping the sparsest (foolbox 2: 10). */
  initRepetitions?: number;
  /** Run the refinement stage (binary search of each remaining pixel between original and adversarial value). */
  refine?: boolean;
  /** Cap on refinement passes (foolbox: none, passes repeat until one improves nothing). */
  maxRefinementPasses?: number;
  /** Cap on queries per restart (foolbox: none); when reached, the restart ends with its current adversarial. */
  maxQueries?: number;
}

/** What a restart reports with each query (AttackProgress). */
interface RestartState {
  stage: AttackProgress['stage'];
  magnitude: number | null;
}

interface RestartOutcome {
  levels: Int32Array;
  magnitude: number;
  prediction: number | null;
  /** The examples the search accepted, in order: `start`, then each accepted step as (feature, level) pairs. */
  path: AcceptedPath;
  /** With a confirming oracle: the confirmation of the path's start. */
  startConfirmation: AttackConfirmation | null;
}

/** The accepted examples of a restart, stored as its first one and the changes of each later one. */
class AcceptedPath {
  readonly steps: number[][] = [];
  constructor(readonly start: Int32Array) {}
  /** The number of accepted examples (start included). */
  get length(): number {
    return this.steps.length + 1;
  }
  /** The i-th accepted example (0: the start, length − 1: where the search ended). */
  at(i: number): Int32Array {
    const levels = Int32Array.from(this.start);
    for (let s = 0; s < i; s++) {
      const step = this.steps[s]!;
      for (let j = 0; j < step.length; j += 2) levels[step[j]!] = step[j + 1]!;
    }
    return levels;
  }
}

/**
 * The Pointwise attack of Schott et al. (2019), black-box, against any oracle (`Decide`), as used by the paper
 * (Levine & Feizi 2020, Table 2) against the smoothed classifier with "misclassified or abstained" as the
 * adversarial criterion. Per restart:
 *  1. salt-and-pepper noise of increasing probability until the oracle no longer returns the label;
 *  2. passes over the perturbed pixel locations in random order, resetting each to its original value when the
 *     example stays adversarial, until a whole pass resets none;
 *  3. refinement passes: for each remaining location, try a reset, else binary-search each channel between its
 *     original and adversarial value; repeat until a pass improves nothing.
 * Pixels move on the dataset's grid only (PixelGrid). Differences from foolbox: docs/attacks.md.
 * @category Plug-in authors
 */
export class PointwiseAttack implements Attack {
  readonly type = 'pointwise';
  readonly restarts: number;
  readonly levels: number;
  readonly initSteps: number;
  readonly initRepetitions: number;
  readonly refine: boolean;
  readonly maxRefinementPasses: number;
  readonly maxQueries: number;

  constructor(options: PointwiseOptions = {}) {
    this.restarts = options.restarts ?? 10;
    this.levels = options.levels ?? 256;
    this.initSteps = options.initSteps ?? 100;
    this.initRepetitions = options.initRepetitions ?? 1;
    this.refine = options.refine ?? true;
    this.maxRefinementPasses = options.maxRefinementPasses ?? Infinity;
    this.maxQueries = options.maxQueries ?? Infinity;
    assertInteger('restarts', this.restarts, 1, MAX_ATTACK_RESTARTS);
    assertInteger('initSteps', this.initSteps, 1);
    assertInteger('initRepetitions', this.initRepetitions, 1);
    if (this.maxRefinementPasses !== Infinity) assertInteger('maxRefinementPasses', this.maxRefinementPasses, 0);
    if (this.maxQueries !== Infinity) assertInteger('maxQueries', this.maxQueries, 1);
    new PixelGrid(this.levels); // validates levels
  }

/** e.g. `pointwise(restarts=10, levels=256)`. */
  describe(): string {
    return `pointwise(restarts=${this.restarts}, levels=${this.levels})`;
  }

/** Runs `restarts` independent restarts (salt-and-pepper start, resets, refinement) and keeps the smallest adversarial. */
  async run(x: Image, label: number, decide: Decide, options: AttackRunOptions = {}): Promise<AttackResult> {
    validateImage(x, 'x');
    assertInteger('label', label, 0);
    const index = options.index ?? 0;
    const seed = options.seed ?? 0;
    const restarts = options.restarts ?? this.restarts;
    assertInteger('index', index, 0);
    assertInteger('restarts', restarts, 1, MAX_ATTACK_RESTARTS);
    const grid = new PixelGrid(this.levels);
    const original = grid.toLevels(x);
    let queries = 0;
    let samples = 0;

    const signal = options.signal;
    const run = signal ? { signal } : undefined;
    throwIfAborted(signal);
    // Confirmations (options.confirm): the image's k-th one is asked with query k, from its own stream.
    const confirm = options.confirm;
    let confirmations = 0;
    let confirmationSamples = 0;
    const confirmAt = async (image: Image, restart: number): Promise<AttackConfirmation | null> => {
      const attempt = confirmations++;
      throwIfAborted(signal);
      const c = await confirm!(image, { index, restart, query: attempt }, run);
      confirmationSamples += c.samples;
      samples += c.samples;
      if (c.prediction === label) return null;
      return { prediction: c.prediction, n: c.samples, ...(c.votes ?? {}), attempt };
    };

    // The clean image. Already misclassified (or abstained on) ⇒ magnitude 0, as in the paper. Without `confirm`:
    // query 0 of restart 0 of the search oracle decides. With `confirm`: the confirming oracle decides (the paper
    // asks its 10 000-sample PREDICT; a cheap oracle's answer on the clean image is not asked at all).
    const clean = confirm ? null : await decide(x, { index, restart: 0, query: 0 }, run);
    if (clean) {
      queries++;
      samples += clean.samples;
    }
    const cleanConfirmed = confirm ? await confirmAt(x, 0) : null;
    if (confirm ? cleanConfirmed !== null : clean!.prediction !== label) {
      return {
        magnitude: 0,
        adversarial: { data: Float32Array.from(x.data), shape: x.shape },
        prediction: cleanConfirmed ? cleanConfirmed.prediction : clean!.prediction,
        restarts: 0,
        perRestart: [],
        queries,
        samples,
        ...(confirm ? { confirmation: { confirmed: cleanConfirmed, searchMagnitude: 0, confirmations, samples: confirmationSamples } } : {}),
      };
    }

    const outcomes: (RestartOutcome | null)[] = [];
    let bestSoFar: number | null = null;
    for (let restart = 0; restart < restarts; restart++) {
      const rng = new Rng(seed, attackStream(index, restart));
      let query = 0;
      const buffer = new Float32Array(x.data.length);
      const state: RestartState = { stage: 'init', magnitude: null };
      const best = bestSoFar;
      const ask = async (levels: Int32Array) => {
        throwIfAborted(signal);
        const d = await decide(grid.toImage(levels, original, x, buffer), { index, restart, query: ++query }, run);
        queries++;
        samples += d.samples;
        options.onProgress?.({ restart, restarts, stage: state.stage, magnitude: state.magnitude, best, queries, samples });
        return d;
      };
      const confirmStart = confirm ? (levels: Int32Array) => confirmAt(grid.toImage(levels, original, x), restart) : undefined;
      const outcome = await this.restart(x, label, original, grid, rng, ask, () => query >= this.maxQueries, state, confirmStart);
      outcomes.push(outcome);
      if (outcome && (bestSoFar === null || outcome.magnitude < bestSoFar)) bestSoFar = outcome.magnitude;
    }
    const perRestart = outcomes.map((o) => o?.magnitude ?? null);

    if (!confirm) {
      let best: RestartOutcome | null = null;
      for (const o of outcomes) if (o && (best === null || o.magnitude < best.magnitude)) best = o;
      return {
        magnitude: best?.magnitude ?? null,
        adversarial: best ? grid.toImage(best.levels, original, x) : null,
        prediction: best?.prediction ?? null,
        restarts,
        perRestart,
        queries,
        samples,
      };
    }

    // Walk-back. Every restart's path starts at a confirmed example (the initialisation asks the confirming
    // oracle before it accepts noise). Restarts in increasing order of the magnitude their search ended at; a
    // restart is skipped once a confirmed example at most as large is known (walking back only adds pixels). For
    // each: confirm the search's final example; if the fresh PREDICT returns the label, bisect the path of
    // accepted examples between the last confirmed and the first unconfirmed one, ending on a confirmed example
    // next to an unconfirmed one (at most ⌈log₂ path length⌉ further confirmations).
    const order = outcomes
      .map((o, restart) => ({ o, restart }))
      .filter((e): e is { o: RestartOutcome; restart: number } => e.o !== null)
      .sort((a, b) => a.o.magnitude - b.o.magnitude || a.restart - b.restart);
    let best: { levels: Int32Array; magnitude: number; confirmed: AttackConfirmation } | null = null;
    for (const { o, restart } of order) {
      if (best !== null && o.magnitude >= best.magnitude) break;
      const image = (levels: Int32Array) => grid.toImage(levels, original, x);
      const last = o.path.length - 1;
      let found: { levels: Int32Array; confirmed: AttackConfirmation } = { levels: o.path.at(0), confirmed: o.startConfirmation! };
      const atEnd = last > 0 ? await confirmAt(image(o.levels), restart) : null;
      if (atEnd) found = { levels: o.levels, confirmed: atEnd };
      else {
        let lo = 0;
        let hi = last;
        while (hi - lo > 1) {
          const mid = (lo + hi) >>> 1;
          const levels = o.path.at(mid);
          const c = await confirmAt(image(levels), restart);
          if (c) {
            lo = mid;
            found = { levels, confirmed: c };
          } else hi = mid;
        }
      }
      const magnitude = changedLocations(found.levels, original, x.shape);
      if (best === null || magnitude < best.magnitude) best = { levels: found.levels, magnitude, confirmed: found.confirmed };
    }
    return {
      magnitude: best?.magnitude ?? null,
      adversarial: best ? grid.toImage(best.levels, original, x) : null,
      prediction: best?.confirmed.prediction ?? null,
      restarts,
      perRestart,
      queries,
      samples,
      confirmation: { confirmed: best?.confirmed ?? null, searchMagnitude: order[0]?.o.magnitude ?? null, confirmations, samples: confirmationSamples },
    };
  }

  private async restart(
    x: Image,
    label: number,
    original: Int32Array,
    grid: PixelGrid,
    rng: Rng,
    ask: (levels: Int32Array) => Promise<{ prediction: number | null }>,
    exhausted: () => boolean,
    state: RestartState,
    confirmStart?: (levels: Int32Array) => Promise<AttackConfirmation | null>,
  ): Promise<RestartOutcome | null> {
    const [C, H, W] = x.shape;
    const d = H * W;
    const isAdversarial = (p: number | null) => p !== label;

    // 1. Salt-and-pepper initialisation (foolbox's SaltAndPepperNoiseAttack, on pixel locations: all channels of
    //    a location go to the grid's maximum (salt, probability p/2) or minimum (pepper, p/2)).
    let adv: Int32Array | null = null;
    let advMagnitude = Infinity;
    let prediction: number | null = null;
    let pMax = 1;
    let startConfirmation: AttackConfirmation | null = null;
    for (let rep = 0; rep < this.initRepetitions && !exhausted(); rep++) {
      for (let j = 1; j <= this.initSteps && !exhausted(); j++) {
        const p = (pMax * j) / this.initSteps;
        const candidate = Int32Array.from(original);
        for (let loc = 0; loc < d; loc++) {
          const u = rng.float();
          const value = u < p / 2 ? 0 : u >= 1 - p / 2 ? grid.top : -1;
          if (value >= 0) for (let c = 0; c < C; c++) candidate[c * d + loc] = value;
        }
        const m = changedLocations(candidate, original, x.shape);
        if (m === 0) continue; // the noise hit no pixel that it changes: this is the original, known not adversarial
        const answer = await ask(candidate);
        if (isAdversarial(answer.prediction)) {
          // With a confirming oracle, the search starts only from a confirmed example (so walking back always
          // ends on one): noise the confirmation rejects counts as not adversarial, and p keeps growing.
          if (m < advMagnitude) {
            const confirmed = confirmStart ? await confirmStart(candidate) : null;
            if (confirmStart && !confirmed) continue;
            adv = candidate;
            advMagnitude = m;
            prediction = answer.prediction;
            startConfirmation = confirmed;
          }
          pMax = Math.min(1, p * 1.2);
          break;
        }
      }
    }
    if (!adv) return null;
    const path = new AcceptedPath(Int32Array.from(adv));

    const changed = (): number[] => {
      const locs: number[] = [];
      for (let loc = 0; loc < d; loc++) {
        for (let c = 0; c < C; c++) {
          if (adv![c * d + loc] !== original[c * d + loc]) {
            locs.push(loc);
            break;
          }
        }
      }
      // Fisher–Yates with the restart's own stream.
      for (let i = locs.length - 1; i > 0; i--) {
        const k = rng.int(i + 1);
        [locs[i], locs[k]] = [locs[k]!, locs[i]!];
      }
      return locs;
    };
    // The original itself was answered "not adversarial" (query 0): the last changed location is never reset, so a
    // noisy oracle cannot turn the original into its own "adversarial example".
    let magnitude = changedLocations(adv, original, x.shape);
    state.stage = 'reset';
    state.magnitude = magnitude;
    const saved = new Int32Array(C);
    const resetLocation = (loc: number) => {
      for (let c = 0; c < C; c++) {
        saved[c] = adv![c * d + loc]!;
        adv![c * d + loc] = original[c * d + loc]!;
      }
    };
    const restoreLocation = (loc: number) => {
      for (let c = 0; c < C; c++) adv![c * d + loc] = saved[c]!;
    };
    const resetStep = (loc: number): number[] => {
      const step: number[] = [];
      for (let c = 0; c < C; c++) step.push(c * d + loc, original[c * d + loc]!);
      return step;
    };

    // 2. Reset passes: in random order, put each perturbed location back while the example stays adversarial.
    for (let any = true; any && !exhausted(); ) {
      any = false;
      for (const loc of changed()) {
        if (exhausted() || magnitude === 1) break;
        resetLocation(loc);
        const answer = await ask(adv);
        if (isAdversarial(answer.prediction)) {
          any = true;
          state.magnitude = --magnitude;
          prediction = answer.prediction;
          path.steps.push(resetStep(loc));
        } else restoreLocation(loc);
      }
    }

    // 3. Refinement passes: reset, else binary-search each channel on the grid between the original value (not
    //    adversarial) and the current one (adversarial).
    state.stage = 'refine';
    for (let pass = 0; this.refine && pass < this.maxRefinementPasses && !exhausted(); pass++) {
      let improved = false;
      for (const loc of changed()) {
        if (exhausted()) break;
        if (magnitude > 1) {
          resetLocation(loc);
          const answer = await ask(adv);
          if (isAdversarial(answer.prediction)) {
            improved = true;
            state.magnitude = --magnitude;
            prediction = answer.prediction;
            path.steps.push(resetStep(loc));
            continue;
          }
          restoreLocation(loc);
        }
        for (let c = 0; c < C; c++) {
          const f = c * d + loc;
          const old = adv[f]!;
          let good = old;
          let bad = original[f]!;
          while (Math.abs(good - bad) > 1 && !exhausted()) {
            const mid = Math.trunc((good + bad) / 2);
            adv[f] = mid;
            const step = await ask(adv);
            if (isAdversarial(step.prediction)) {
              good = mid;
              prediction = step.prediction;
              path.steps.push([f, mid]);
            } else bad = mid;
          }
          adv[f] = good;
          if (good !== old) improved = true;
        }
      }
      if (!improved) break;
    }
    return { levels: adv, magnitude, prediction, path, startConfirmation };
  }
}
