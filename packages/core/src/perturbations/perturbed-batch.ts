import type { Shape } from '../shape.js';
import { features, locations } from '../shape.js';

/**
 * A reusable buffer of perturbed samples of one image: `values` [capacity, C, H, W] and `kept`
 * [capacity, H, W] (1 = location retained, 0 = NULL). Allocated once per certification, rewritten per batch,
 * so memory stays flat in the number of samples n.
 * @category Plug-in authors
 */
export class PerturbedBatch {
  readonly values: Float32Array;
  readonly kept: Uint8Array;
  readonly featuresPerSample: number;
  readonly locationsPerSample: number;

  constructor(readonly shape: Shape, readonly capacity: number) {
    this.featuresPerSample = features(shape);
    this.locationsPerSample = locations(shape);
    this.values = new Float32Array(capacity * this.featuresPerSample);
    this.kept = new Uint8Array(capacity * this.locationsPerSample).fill(1);
  }
}
