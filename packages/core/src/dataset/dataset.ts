import type { Image, Shape } from '../shape.js';

/** One labelled example. @category App authors */
export interface Example {
  image: Image;
  label: number;
}

/**
 * A labelled image collection (MNIST, CIFAR-10, a folder of PNGs, …). Implementations live outside core
 * (`@ablate/datasets`); core only fixes the shape of the contract.
 * @category App authors
 */
export interface Dataset {
  /** Human name, e.g. `mnist/test`. */
  readonly name: string;
  readonly size: number;
  /** Shape [C, H, W] of every image. */
  readonly shape: Shape;
  readonly numClasses: number;
  /** Per-channel mean pixel of the training set (the mean encoder's default NULL fill), when known. */
  readonly mean?: readonly number[];
  /** The example at `index` ∈ [0, size), values scaled to [0, 1]. */
  get(index: number): Example;
  /**
   * The same example as `get(index)`, without blocking the event loop on file reads (a lazily decoded image
   * folder reads the file with fs/promises). Optional: callers that run inside a server or UI should prefer
   * `await dataset.getAsync?.(index) ?? dataset.get(index)` — the runtime's dataset runs do.
   */
  getAsync?(index: number): Promise<Example>;
}
