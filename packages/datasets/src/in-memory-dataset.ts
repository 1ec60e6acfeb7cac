import type { Dataset, Example, Shape } from '@ablate/core';
import { ArgumentError } from '@ablate/core';

/**
 * A dataset held as one byte array of images [N, C, H, W] (0–255) plus labels; images are scaled to [0, 1]
 * on access. Shared by the IDX, CIFAR-10 and image-folder readers.
 */
export class ByteImageDataset implements Dataset {
  readonly size: number;
  private meanCache?: readonly number[];

  constructor(
    readonly name: string,
    readonly shape: Shape,
    readonly numClasses: number,
    private readonly pixels: Uint8Array,
    private readonly labels: Uint8Array,
    private readonly meanSource?: () => readonly number[],
  ) {
    this.size = labels.length;
  }

  /** Per-channel mean of the training split (computed once, on first use). */
  get mean(): readonly number[] | undefined {
    if (!this.meanSource) return undefined;
    return (this.meanCache ??= this.meanSource());
  }

  get(index: number): Example {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new ArgumentError('index', `must be an integer in [0, ${this.size}), got ${index}`, `${this.name} has ${this.size} images`);
    }
    const F = this.shape[0] * this.shape[1] * this.shape[2];
    const data = new Float32Array(F);
    const src = this.pixels.subarray(index * F, (index + 1) * F);
    for (let i = 0; i < F; i++) data[i] = src[i]! / 255;
    return { image: { data, shape: this.shape }, label: this.labels[index]! };
  }

  /** `get` as a promise (the bytes are in memory already: the file was read whole, asynchronously, at load). */
  async getAsync(index: number): Promise<Example> {
    return this.get(index);
  }
}

/** Per-channel mean in [0, 1] of byte images laid out [N, C, H·W]. */
export function channelMeans(pixels: Uint8Array, channels: number, perChannel: number): number[] {
  const sums = new Float64Array(channels);
  const stride = channels * perChannel;
  const n = pixels.length / stride;
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < channels; c++) {
      let acc = 0;
      const off = s * stride + c * perChannel;
      for (let p = 0; p < perChannel; p++) acc += pixels[off + p]!;
      sums[c] += acc;
    }
  }
  return [...sums].map((v) => v / (n * perChannel * 255));
}
