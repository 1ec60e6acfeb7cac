import type { PerturbedBatch } from '../perturbations/perturbed-batch.js';
import type { Shape } from '../shape.js';

/**
 * Turns a perturbed batch (values + kept mask) into the base classifier's input tensor, laid out
 * [count, C′, H, W] in `out`. NULL locations (kept = 0) get the encoder's NULL code.
 * @category Plug-in authors
 */
export interface Encoder {
  readonly type: string;
  /** C′ for an input with C channels. */
  outputChannels(inputChannels: number): number;
  /** Encodes rows [0, count) of `batch` into `out` (length ≥ count·C′·H·W). */
  encode(batch: PerturbedBatch, count: number, out: Float32Array): void;
  /** A short name with parameters, for result files and logs (e.g. `multichannel`). */
  describe(): string;
}

/** Output shape [C′, H, W] of an encoder for inputs of shape [C, H, W]. @category Plug-in authors */
export function encodedShape(encoder: Encoder, shape: Shape): Shape {
  return [encoder.outputChannels(shape[0]), shape[1], shape[2]];
}
