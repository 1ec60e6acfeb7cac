#!/usr/bin/env node
// The paper's Figure 3 from our Table 2 runs: per row, an MNIST test image, its best adversarial example against
// the undefended CNN, and against the k = 45 smoothed classifier (the examples `ablate attack --save-examples`
// wrote). Writes docs/img/table2-adversarial-examples.png (4× upscaled, greyscale).
// Usage: node reproduction/figure3.mjs [INDEX …]   (default: the first images with examples in both runs)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng, encodePng, loadMnist } from '../packages/datasets/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = ['table2-undefended', 'table2-k45'].map((name) => join(root, 'reproduction/results', `${name}-examples`));
const asked = process.argv.slice(2).map(Number);
const mnist = loadMnist('test');
const candidates = asked.length ? asked : [...Array(mnist.size).keys()];
const indices = candidates.filter((i) => runs.every((dir) => existsSync(join(dir, `${i}.png`)))).slice(0, asked.length || 4);
if (indices.length === 0) throw new Error('no image has examples in both runs yet');

const S = 4; // upscale
const gap = 4;
const cell = 28 * S;
const cols = 1 + runs.length;
const W = cols * cell + (cols - 1) * gap;
const H = indices.length * cell + (indices.length - 1) * gap;
const data = new Float32Array(W * H).fill(1);
const paste = (img, row, col) => {
  for (let y = 0; y < 28 * S; y++)
    for (let x = 0; x < 28 * S; x++) data[(row * (cell + gap) + y) * W + col * (cell + gap) + x] = img.data[Math.floor(y / S) * 28 + Math.floor(x / S)];
};
indices.forEach((index, row) => {
  paste(mnist.get(index).image, row, 0);
  runs.forEach((dir, j) => paste(decodePng(readFileSync(join(dir, `${index}.png`))), row, j + 1));
});
const out = join(root, 'docs/img/table2-adversarial-examples.png');
writeFileSync(out, encodePng({ data, shape: [1, H, W] }));
console.log(`wrote ${out} (images ${indices.join(', ')})`);
