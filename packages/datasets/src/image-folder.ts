import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { DatasetError } from './errors.js';
import { ByteImageDataset, channelMeans } from './in-memory-dataset.js';
import { checkPngSize, readPngSize } from './png-header.js';
import { readDataFile } from './read-file.js';

/** Options of `loadImageFolder`. */
export interface ImageFolderOptions {
  /** 1 = greyscale (luma of RGB), 3 = RGB. Default: 3 if any image has colour, else 1. */
  channels?: 1 | 3;
}

/** A directory-walk failure as a DatasetError naming the path and what to do (broken links, loops, permissions). */
function walkError(path: string, error: unknown): DatasetError {
  const code = (error as NodeJS.ErrnoException).code;
  let link = false;
  try {
    link = lstatSync(path).isSymbolicLink();
  } catch {
    /* the path itself is missing */
  }
  if (code === 'ENOENT' && link) return new DatasetError(path, 'is a broken symbolic link', 'remove it or point it at an existing file or folder');
  if (code === 'ENOENT') return new DatasetError(path, 'folder not found', 'give a folder with one sub-folder of PNGs per class');
  if (code === 'ELOOP') return new DatasetError(path, 'is a symbolic link loop', 'remove the link or point it at a real file or folder');
  if (code === 'EACCES' || code === 'EPERM') return new DatasetError(path, 'cannot be read (permission denied)', 'fix its permissions (chmod) or remove it from the dataset folder');
  if (code === 'ENOTDIR') return new DatasetError(path, 'is a file, not a folder', 'give a folder with one sub-folder of PNGs per class');
  return new DatasetError(path, `cannot be read (${code ?? String(error)})`, 'check the dataset folder');
}

function walk<T>(path: string, read: (p: string) => T): T {
  try {
    return read(path);
  } catch (error) {
    throw walkError(path, error);
  }
}

/**
 * A folder of PNG images with labels given by sub-folders: `root/<class>/<image>.png`. Classes are the
 * sub-folder names in sorted order (so `0`…`9` map to labels 0…9). All images must share one size.
 * Every file's PNG header is read before any image is decoded: an image larger than MAX_IMAGE_PIXELS, or of
 * another size than the first, is refused without decoding it (a small PNG can declare gigabytes of pixels).
 */
export function loadImageFolder(root: string, options: ImageFolderOptions = {}): ByteImageDataset & { classes: string[] } {
  const entries = walk(root, (p) => readdirSync(p)).sort();
  const classes = entries.filter((e) => walk<Stats>(join(root, e), (p) => statSync(p)).isDirectory());
  if (classes.length === 0) throw new DatasetError(root, 'has no class sub-folders', 'lay images out as <root>/<class>/<name>.png');
  if (classes.length > 256) throw new DatasetError(root, `has ${classes.length} class sub-folders; at most 256 are supported (labels are bytes)`);
  // Pass 1, headers only: every file is a PNG of an allowed size, the same as the first.
  const files: { label: number; file: string }[] = [];
  let first: { width: number; height: number; file: string } | undefined;
  classes.forEach((cls, label) => {
    for (const f of walk(join(root, cls), (p) => readdirSync(p)).sort()) {
      if (!f.toLowerCase().endsWith('.png')) continue;
      const file = join(root, cls, f);
      walk(file, (p) => statSync(p)); // broken links and loops named as such
      const size = readPngSize(file);
      checkPngSize(file, size);
      if (!first) first = { ...size, file };
      else if (size.width !== first.width || size.height !== first.height) {
        throw new DatasetError(file, `is ${size.width}×${size.height}, but the first image is ${first.width}×${first.height}`, 'all images in a folder must share one size');
      }
      files.push({ label, file });
    }
  });
  // Pass 2: decode.
  const decoded: { png: PNG; label: number; file: string }[] = files.map(({ label, file }) => {
    try {
      return { png: PNG.sync.read(readDataFile(file)), label, file };
    } catch (error) {
      if (error instanceof DatasetError) throw error;
      throw new DatasetError(file, `is not a readable PNG (${(error as Error).message})`);
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
