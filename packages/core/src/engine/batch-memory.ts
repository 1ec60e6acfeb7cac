import { ArgumentError } from '../errors.js';
import { MAX_BATCH_BYTES } from '../limits.js';
import { features, locations, type Shape } from '../shape.js';

/**
 * Bytes of the engine's batch buffers for `capacity` samples: two slots (one sampled while the other is
 * classified), each with the perturbed values (float32), the kept mask (uint8) and the encoded batch (float32).
 */
export function batchBytes(shape: Shape, encShape: Shape, capacity: number): number {
  return 2 * capacity * (4 * features(shape) + locations(shape) + 4 * features(encShape));
}

/**
 * Bytes of the buffers of `lanes` calls at once: a buffer set each and, when lanes > 1, the BatchCoalescer's merged
 * batch (at most one encoded batch of `capacity` rows per lane).
 */
function lanesBytes(shape: Shape, encShape: Shape, capacity: number, lanes: number): number {
  return lanes * batchBytes(shape, encShape, capacity) + (lanes > 1 ? lanes * capacity * 4 * features(encShape) : 0);
}

/**
 * Throws an ArgumentError naming `batchSize` when batches of `capacity` samples of this shape, for `lanes` calls
 * at once (imagesInFlight, one buffer set each, plus the merged batch), would exceed MAX_BATCH_BYTES, with the
 * largest batch size that fits.
 */
export function assertBatchFits(shape: Shape, encShape: Shape, capacity: number, lanes = 1): void {
  const bytes = lanesBytes(shape, encShape, capacity, lanes);
  if (bytes <= MAX_BATCH_BYTES) return;
  const fits = Math.max(1, Math.floor(MAX_BATCH_BYTES / lanesBytes(shape, encShape, 1, lanes)));
  const times = lanes > 1 ? ` × ${lanes} images in flight` : '';
  throw new ArgumentError(
    'batchSize',
    `batches of ${capacity} samples of [${shape.join(', ')}] (encoded [${encShape.join(', ')}])${times} need ${gib(bytes)} of buffers, more than the ${gib(MAX_BATCH_BYTES)} limit`,
    `use a batchSize of at most ${fits}${lanes > 1 ? ' (or fewer images in flight)' : ''}`,
  );
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(bytes < 1024 ** 3 ? 2 : 1)} GiB`;
}
