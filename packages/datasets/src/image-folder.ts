import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { DatasetError } from './errors.js';
import { ByteImageDataset, channelMeans } from './in-memory-dataset.js';
import { readDataFile } from './read-file.js';

/** Options of `loadImageFolder`. */
export interface ImageFolderOptions {
  /** 1 = greyscale (luma of RGB), 3 = RGB. Default: 3 if any image has colour, else 1. */
  channels?: 1 | 3;
}

/**
 * A folder of PNG images with labels given by sub-folders: `root/<class>/<image>.png`. Classes are the
 * sub-folder names in sorted order (so `0`…`9` map to labels 0…9). All images must share one size.
 */
export function loadImageFolder(root: string, options: ImageFolderOptions = {}): ByteImageDataset & { classes: string[] } {
  let entries: string[];
  try {
    entries = readdirSync(root).sort();
  } catch {
    throw new DatasetError(root, 'folder not found or unreadable', 'give a folder with one sub-folder of PNGs per class');
  }
  const classes = entries.filter((e) => statSync(join(root, e)).isDirectory());
  if (classes.length === 0) throw new DatasetError(root, 'has no class sub-folders', 'lay images out as <root>/<class>/<name>.png');
  const decoded: { png: PNG; label: number; file: string }[] = [];
  classes.forEach((cls, label) => {
    for (const f of readdirSync(join(root, cls)).sort()) {
      if (!f.toLowerCase().endsWith('.png')) continue;
      const file = join(root, cls, f);
      try {
        decoded.push({ png: PNG.sync.read(readDataFile(file)), label, file });
      } catch (error) {
        if (error instanceof DatasetError) throw error;
        throw new DatasetError(file, `is not a readable PNG (${(error as Error).message})`);
      }
    }
  });
  if (decoded.length === 0) throw new DatasetError(root, 'contains no .png images');
  const { width, height } = decoded[0]!.png;
  const colour = decoded.some(({ png }) => {
    const d = png.data;
    for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return true;
    return false;
  });
  const C = options.channels ?? (colour ? 3 : 1);
  const plane = width * height;
  const pixels = new Uint8Array(decoded.length * C * plane);
  const labels = new Uint8Array(decoded.length);
  decoded.forEach(({ png, label, file }, s) => {
    if (png.width !== width || png.height !== height) {
      throw new DatasetError(file, `is ${png.width}×${png.height}, but the first image is ${width}×${height}`, 'all images in a folder must share one size');
    }
    labels[s] = label;
    for (let p = 0; p < plane; p++) {
      const r = png.data[4 * p]!;
      const g = png.data[4 * p + 1]!;
      const b = png.data[4 * p + 2]!;
      if (C === 1) pixels[s * plane + p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      else {
        pixels[s * 3 * plane + p] = r;
        pixels[s * 3 * plane + plane + p] = g;
        pixels[s * 3 * plane + 2 * plane + p] = b;
      }
    }
  });
  const ds = new ByteImageDataset(`folder:${root}`, [C, height, width], classes.length, pixels, labels, () => channelMeans(pixels, C, plane));
  return Object.assign(ds, { classes });
}
