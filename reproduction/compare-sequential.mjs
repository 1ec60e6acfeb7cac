// Compares a sequential certify run with the fixed-n (Cohen) run of the same model, config and seed on the images
// both contain: samples per image, wall time, radius changes and median certified robustness.
// Usage: node reproduction/compare-sequential.mjs SEQUENTIAL.jsonl COHEN.jsonl  (prints a Markdown table row set)
import { readFileSync } from 'node:fs';

const read = (f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const [seqFile, cohenFile] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(`${cohenFile}.meta.json`, 'utf8'));
const fixed = meta.config.certifier.n0 + meta.config.certifier.n;
const seq = new Map(read(seqFile).map((r) => [r.index, r]));
const cohen = read(cohenFile).filter((r) => seq.has(r.index));
const both = cohen.map((c) => [seq.get(c.index), c]);
// paper convention: misclassified or abstained count as −∞
const radius = (r) => (r.correct && r.prediction !== null ? r.radius : -Infinity);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const medianRadius = (rs) => {
  const s = rs.map(radius).sort((a, b) => b - a);
  return s[Math.ceil(s.length / 2) - 1]; // largest ρ with ≥ half the images certified at ≥ ρ
};
const samples = both.map(([s]) => s.samples);
const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
let lose = 0;
let gain = 0;
let lostPixels = 0;
for (const [s, c] of both) {
  if (radius(s) < radius(c)) {
    lose++;
    lostPixels += Number.isFinite(radius(c)) && Number.isFinite(radius(s)) ? radius(c) - radius(s) : 0;
  }
  if (radius(s) > radius(c)) gain++;
}
const secs = (rs) => rs.reduce((a, r) => a + r.seconds, 0);
const fmtR = (r) => (Number.isFinite(r) ? String(r) : '−∞');
const out = {
  images: both.length,
  fixed,
  meanSamples: Math.round(mean),
  medianSamples: median(samples),
  ratio: +(fixed / mean).toFixed(2),
  seqSeconds: +secs(both.map(([s]) => s)).toFixed(1),
  cohenSeconds: +secs(both.map(([, c]) => c)).toFixed(1),
  seqSamplesPerSecond: Math.round(samples.reduce((a, b) => a + b, 0) / secs(both.map(([s]) => s))),
  cohenSamplesPerSecond: Math.round((fixed * both.length) / secs(both.map(([, c]) => c))),
  lose,
  gain,
  same: both.length - lose - gain,
  medianSeq: fmtR(medianRadius(both.map(([s]) => s))),
  medianCohen: fmtR(medianRadius(both.map(([, c]) => c))),
  maxSamplesHit: both.filter(([s]) => s.samples >= fixed).length,
};
console.log(JSON.stringify(out));
