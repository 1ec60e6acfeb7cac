// Rewrites a trained ONNX base classifier of the paper's CNN shape as a tfjs LayersModel (NHWC), with the
// same weights, for the tfjs backend:  node training/export-tfjs.mjs models/X.onnx models/X-tfjs
import { readFileSync } from 'node:fs';
import { readOnnxCnn, writeTfjsCnn } from '@ablate/testing';

const [src, dest] = process.argv.slice(2);
if (!src || !dest) {
  console.error('usage: node training/export-tfjs.mjs MODEL.onnx OUT_DIR');
  process.exit(2);
}
const { spec, weights } = readOnnxCnn(readFileSync(src));
await writeTfjsCnn(spec, weights, dest);
console.log(`wrote ${dest}/model.json (+ weights.bin) from ${src}`);
