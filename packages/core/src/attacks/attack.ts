import type { Image } from '../shape.js';
import type { Decide } from './decision.js';

/** Per-image options of an attack run: the image's dataset index and the seed (they fix every random stream). @category App authors */
export interface AttackRunOptions {
  /** The image's index in its dataset: selects the random streams of its restarts and queries. */
  index?: number;
  /** Seed of every random draw (the config's seed). */
  seed?: number;
  /** Independent restarts; the smallest adversarial over them is returned (overrides the attack's own). */
  restarts?: number;
  /**
   * Called after every query, so that a caller can show progress within an image (one image of the paper's
   * Table 2 protocol takes thousands of queries). Must not throw; the attack does not wait for it.
   */
  onProgress?: (progress: AttackProgress) => void;
  /**
   * Cancels the attack: checked before every query and passed to the oracle (PREDICT checks it before every
   * batch), so the attack rejects with an AbortError (code `ABORTED`) within one batch of the abort.
   */
  signal?: AbortSignal;
  /**
   * The confirming oracle (e.g. `confirmDecider`: a fresh PREDICT at the paper's n from its own substream).
   * When given, the search's oracle only guides the search: an example is reported only once `confirm`, asked
   * afresh, does not return `label` for it; when it does, the attack walks back along the path of examples its
   * search accepted until one is confirmed, or reports none. Called with `{ index, restart, query: k }`, k the
   * image's k-th confirmation. Leave it out only when the search's oracle is deterministic (an undefended model).
   */
  confirm?: Decide;
}

/** The confirming query that an attack's reported example passed (AttackRunOptions.confirm). @category App authors */
export interface AttackConfirmation {
  /** What the confirming oracle answered on the reported example (null: abstained); never the label. */
  prediction: number | null;
  /** Its samples (PREDICT's n) and, for PREDICT, the top two votes and the binomial test's p-value. */
  n: number;
  nA?: number;
  nB?: number;
  pValue?: number;
  /** The confirmation's number k on this image (its random stream: `confirmStream(index, k)`). */
  attempt: number;
}

/** Where an attack stands on one image, after a query. @category App authors */
export interface AttackProgress {
  /** The restart running (0-based) and the number of restarts. */
  restart: number;
  restarts: number;
  /** The stage of the restart: the noise initialisation, the reset passes or the refinement passes. */
  stage: 'init' | 'reset' | 'refine';
  /** Pixel locations changed in this restart's current adversarial example (null: none found yet). */
  magnitude: number | null;
  /** The smallest magnitude over the finished restarts (null: none yet). */
  best: number | null;
  /** Queries and base-classifier samples spent on this image so far. */
  queries: number;
  samples: number;
}

/** The outcome of attacking one image. @category App authors */
export interface AttackResult {
  /**
   * Pixel locations changed in the best adversarial example (all channels of a location count once); 0 when the
   * original is already misclassified (or abstained on); null when no restart found an adversarial example.
   */
  magnitude: number | null;
  /** The best adversarial example (the original when magnitude is 0), or null. */
  adversarial: Image | null;
  /** What the oracle answered on `adversarial` in the query that accepted it (null: abstained). */
  prediction: number | null;
  /** Restarts run (0 when the original was already adversarial). */
  restarts: number;
  /** Magnitude found by each restart (null: none). */
  perRestart: (number | null)[];
  /** Oracle queries and the samples they cost, over all restarts (samples include the confirmations'). */
  queries: number;
  samples: number;
  /**
   * With `confirm`: the confirmation of the reported example (null when none was reported), the smallest
   * magnitude the search reached before confirmation (null: none), and the confirming queries asked (not
   * counted in `queries`; their samples are in `samples`). Absent without `confirm`.
   */
  confirmation?: { confirmed: AttackConfirmation | null; searchMagnitude: number | null; confirmations: number; samples: number };
}

/**
 * An empirical attack: searches for an input the oracle does not classify as `label` (misclassified or
 * abstained, the paper's criterion), returning an upper bound on the robustness that certificates lower-bound.
 * @category App authors
 */
export interface Attack {
  readonly type: string;
/** Attacks x (true class `label`) through `decide` only (black-box); returns the best adversarial found (with
 *  `options.confirm`: the best one the confirming oracle agrees with; a plug-in attack must honour it). */
  run(x: Image, label: number, decide: Decide, options?: AttackRunOptions): Promise<AttackResult>;
/** A short description with parameters, e.g. `pointwise(restarts=10, levels=256)`. */
  describe(): string;
}
