import { InputError } from './errors.js';

/** Image shape [C, H, W] (channels first, like PyTorch and ONNX). @category Plug-in authors */
export type Shape = readonly [channels: number, height: number, width: number];

/** One input image: values (usually in [0, 1]) laid out [C, H, W]. @category Plug-in authors */
export interface Image {
  readonly data: Float32Array;
  readonly shape: Shape;
}

/** Number of pixel locations d = H·W (the paper's d: all channels of a location count once). @category Plug-in authors */
export function locations(shape: Shape): number {
  return shape[1] * shape[2];
}

/** Number of features C·H·W (Lee et al.'s convention: channels count separately). @category Plug-in authors */
export function features(shape: Shape): number {
  return shape[0] * shape[1] * shape[2];
}

/** Checks that an image is well-formed: integer positive shape, matching length, finite values. @category Plug-in authors */
export function validateImage(image: Image, field = 'image'): void {
  const { data, shape } = image;
  if (!(data instanceof Float32Array)) {
    throw new InputError(`${field}.data`, 'must be a Float32Array', 'convert with Float32Array.from(values)');
  }
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s > 0)) {
    throw new InputError(`${field}.shape`, `must be [C, H, W] with positive integers, got ${JSON.stringify(shape)}`);
  }
  const n = features(shape);
  if (data.length !== n) {
    throw new InputError(`${field}.data`, `has ${data.length} values but shape ${JSON.stringify(shape)} needs ${n}`);
  }
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new InputError(`${field}.data[${i}]`, `is ${v}; inputs must be finite numbers`, 'replace NaN/Infinity before certifying');
    }
  }
}
