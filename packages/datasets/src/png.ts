import { PNG } from 'pngjs';
import { ArgumentError, InputError, type Image } from '@ablate/core';
import { decodePngFile } from './png-header.js';

/**
 * An image with values on the 8-bit grid (multiples of 1/255, e.g. an adversarial example of `ablate attack`) as
 * an 8-bit PNG: greyscale for 1 channel, RGB for 3. Values off the grid are an InputError (they would not
 * survive the round trip), so the file holds exactly the image.
 */
export function encodePng(image: Image): Buffer {
  const [C, H, W] = image.shape;
  if (C !== 1 && C !== 3) throw new ArgumentError('image.shape', `a PNG holds 1 (greyscale) or 3 (RGB) channels, got ${C}`);
  const plane = H * W;
  const bytes = Buffer.alloc(C * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < C; c++) {
      const v = image.data[c * plane + p]! * 255;
      const b = Math.round(v);
      if (!(b >= 0 && b <= 255) || Math.abs(v - b) > 1e-4) {
        throw new InputError(`image.data[${c * plane + p}]`, `is ${image.data[c * plane + p]}, not a multiple of 1/255 in [0, 1]`, 'only 8-bit images can be saved exactly as PNG');
      }
      bytes[p * C + c] = b;
    }
  }
  const png = new PNG({ width: W, height: H, colorType: C === 1 ? 0 : 2, inputColorType: C === 1 ? 0 : 2, inputHasAlpha: false, bitDepth: 8 });
  png.data = bytes;
  return PNG.sync.write(png, { colorType: C === 1 ? 0 : 2, inputColorType: C === 1 ? 0 : 2, inputHasAlpha: false, bitDepth: 8 });
}

/**
 * Reads an 8-bit PNG back as an image [C, H, W] with values b/255 (C = 1 for greyscale files, else 3). A PNG
 * that is corrupt or truncated (its compressed data ends early, or holds another amount than its header
 * declares) is a DatasetError naming `name`, never an image with zeros where the data is missing.
 */
export function decodePng(buffer: Buffer, name = 'PNG'): Image {
  const png = decodePngFile(name, buffer);
  const { width: W, height: H } = png;
  const plane = W * H;
  const grey = png.colorType === 0 || png.colorType === 4;
  const C = grey ? 1 : 3;
  const data = new Float32Array(C * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < C; c++) data[c * plane + p] = png.data[4 * p + c]! / 255;
  return { data, shape: [C, H, W] };
}
