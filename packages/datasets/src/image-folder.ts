import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { readdir, stat as statAsync } from 'node:fs/promises';
import { join } from 'node:path';
import { ArgumentError, type Dataset, type Example, type Shape } from '@ablate/core';
import { DatasetError } from './errors.js';
import { checkPngSize, decodePngFile, readPngHeader, readPngHeaderAsync, type DecodedPng, type PngHeader } from './png-header.js';
import { notRegular, readDataFile, readDataFileAsync } from './read-file.js';

/** Options of `loadImageFolder`. */
export interface ImageFolderOptions {
  /**
   * 1 = greyscale (luma 0.299 R + 0.587 G + 0.114 B of colour files), 3 = RGB (a grey file's value in all three).
   * Default, from the PNG headers alone (no image is decoded to choose): 1 when every file is greyscale by its
   * colour type (grey, grey + alpha, or a palette of grey entries only), else 3. A folder of grey pictures saved
   * as RGB therefore reads as 3 channels unless `channels: 1` is given.
   */
  channels?: 1 | 3;
}

/** A directory-walk failure as a DatasetError naming the path and what to do (broken links, loops, permissions). */
function walkError(path: string, error: unknown): DatasetError {
  if (error instanceof DatasetError) return error;
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

async function walkAsync<T>(path: string, read: (p: string) => Promise<T>): Promise<T> {
  try {
    return await read(path);
  } catch (error) {
    throw walkError(path, error);
  }
}

/** One image of the folder: its file, label and the header checked before any decoding. */
interface Entry {
  file: string;
  label: number;
  header: PngHeader;
}

/**
 * A folder of PNG images read lazily: only the headers are read up front (`loadImageFolder`); each image is
 * read and decoded when asked for (`get`, or `getAsync` with fs/promises), one at a time, so memory holds one
 * decoded image whatever the folder's size. A file that fails to decode is a DatasetError naming it at that
 * point. The training mean (`mean`) decodes every image once, one at a time, on first use.
 */
export class ImageFolderDataset implements Dataset {
  readonly size: number;
  readonly shape: Shape;
  readonly numClasses: number;
  private meanCache?: readonly number[];

  /** Use `loadImageFolder` / `loadImageFolderAsync`, which check every header first. */
  constructor(
    readonly name: string,
    /** Class names: the sorted sub-folder names, label i = classes[i]. */
    readonly classes: string[],
    private readonly entries: readonly Entry[],
    channels: 1 | 3,
  ) {
    const { width, height } = entries[0]!.header;
    this.size = entries.length;
    this.shape = [channels, height, width];
    this.numClasses = classes.length;
  }

  /** The files of the images, in dataset order. */
  get files(): readonly string[] {
    return this.entries.map((e) => e.file);
  }

  /** Per-channel mean of the images (decoded one at a time on first use). */
  get mean(): readonly number[] {
    if (this.meanCache) return this.meanCache;
    const [C, H, W] = this.shape;
    const sums = new Float64Array(C);
    for (let i = 0; i < this.size; i++) {
      const data = this.get(i).image.data;
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let p = c * H * W; p < (c + 1) * H * W; p++) acc += Math.round(data[p]! * 255); // the exact byte

        sums[c] += acc;
      }
    }
    return (this.meanCache = [...sums].map((s) => s / (this.size * H * W * 255)));
  }

  private entry(index: number): Entry {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new ArgumentError('index', `must be an integer in [0, ${this.size}), got ${index}`, `${this.name} has ${this.size} images`);
    }
    return this.entries[index]!;
  }

  private example(entry: Entry, bytes: Buffer): Example {
    const png = decodePngFile(entry.file, bytes, entry.header);
    return { image: { data: toPlanes(png, this.shape[0] as 1 | 3), shape: this.shape }, label: entry.label };
  }

  /** The image at `index`, read and decoded now (synchronously), values in [0, 1]. */
  get(index: number): Example {
    const entry = this.entry(index);
    return this.example(entry, readDataFile(entry.file));
  }

  /** The image at `index`, read with fs/promises (the event loop keeps running while it reads), then decoded. */
  async getAsync(index: number): Promise<Example> {
    const entry = this.entry(index);
    return this.example(entry, await readDataFileAsync(entry.file));
  }
}

/** RGBA pixels → planes [C, H·W] in [0, 1]: luma for C = 1 (grey files: their value), R, G, B for C = 3. */
function toPlanes(png: DecodedPng, C: 1 | 3): Float32Array {
  const plane = png.width * png.height;
  const out = new Float32Array(C * plane);
  const d = png.data;
  for (let p = 0; p < plane; p++) {
    const r = d[4 * p]!;
    const g = d[4 * p + 1]!;
    const b = d[4 * p + 2]!;
    if (C === 1) out[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b) / 255;
    else {
      out[p] = r / 255;
      out[plane + p] = g / 255;
      out[2 * plane + p] = b / 255;
    }
  }
  return out;
}

/** Checks one file's header against the limits and the first image's size; returns the entry. */
function entryOf(file: string, label: number, first: Entry | undefined, header = readPngHeader(file) /* refuses pipes, sockets and devices at once, without blocking */): Entry {
  checkPngSize(file, header);
  if (first && (header.width !== first.header.width || header.height !== first.header.height)) {
    throw new DatasetError(file, `is ${header.width}×${header.height}, but the first image is ${first.header.width}×${first.header.height}`, 'all images in a folder must share one size');
  }
  return { file, label, header };
}

function build(root: string, classes: string[], entries: Entry[], options: ImageFolderOptions): ImageFolderDataset {
  if (entries.length === 0) throw new DatasetError(root, 'contains no .png images');
  const channels = options.channels ?? (entries.every((e) => e.header.grey) ? 1 : 3);
  return new ImageFolderDataset(`folder:${root}`, classes, entries, channels);
}

function checkClasses(root: string, classes: string[]): void {
  if (classes.length === 0) throw new DatasetError(root, 'has no class sub-folders', 'lay images out as <root>/<class>/<name>.png');
  if (classes.length > 256) throw new DatasetError(root, `has ${classes.length} class sub-folders; at most 256 are supported (labels are bytes)`);
}

/** A `.png` entry that is not a regular file (after following links) is refused by name; broken links too. */
function checkEntry(file: string, stat: Stats): void {
  if (!stat.isFile()) throw notRegular(file, stat);
}

/**
 * A folder of PNG images with labels given by sub-folders: `root/<class>/<image>.png`. Classes are the
 * sub-folder names in sorted order (so `0`…`9` map to labels 0…9). All images must share one size.
 * Only the PNG headers are read here: a file that is not a regular file (a FIFO named `x.png`, a socket, a
 * device) or not a PNG, an image larger than MAX_IMAGE_PIXELS, or of another size than the first, is refused
 * (DatasetError naming it) before any image is decoded. Images are decoded lazily, one at a time, when asked
 * for (see ImageFolderDataset), so the model's input-shape check refuses a folder of wrong-sized images
 * without decoding any.
 */
export function loadImageFolder(root: string, options: ImageFolderOptions = {}): ImageFolderDataset {
  const classes = walk(root, (p) => readdirSync(p))
    .sort()
    .filter((e) => walk<Stats>(join(root, e), (p) => statSync(p)).isDirectory());
  checkClasses(root, classes);
  const entries: Entry[] = [];
  classes.forEach((cls, label) => {
    for (const f of walk(join(root, cls), (p) => readdirSync(p)).sort()) {
      if (!f.toLowerCase().endsWith('.png')) continue;
      const file = join(root, cls, f);
      checkEntry(file, walk(file, (p) => statSync(p))); // broken links and loops named as such
      entries.push(entryOf(file, label, entries[0]));
    }
  });
  return build(root, classes, entries, options);
}

/** `loadImageFolder` with fs/promises for the folder walk and the header reads (images stay lazy). */
export async function loadImageFolderAsync(root: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const names = (await walkAsync(root, (p) => readdir(p))).sort();
  const classes: string[] = [];
  for (const e of names) if ((await walkAsync(join(root, e), (p) => statAsync(p))).isDirectory()) classes.push(e);
  checkClasses(root, classes);
  const entries: Entry[] = [];
  for (const [label, cls] of classes.entries()) {
    for (const f of (await walkAsync(join(root, cls), (p) => readdir(p))).sort()) {
      if (!f.toLowerCase().endsWith('.png')) continue;
      const file = join(root, cls, f);
      checkEntry(file, await walkAsync(file, (p) => statAsync(p)));
      entries.push(entryOf(file, label, entries[0], await readPngHeaderAsync(file)));
    }
  }
  return build(root, classes, entries, options);
}
