// Writes the generated tables of docs/reproduction.md from reproduction/results/*.jsonl (and their .meta.json):
//   node reproduction/report.mjs          (prints)      node reproduction/report.mjs --write
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from '@ablate/cli';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const pct = (x) => `${(100 * x).toFixed(2)}%`;
const hours = (s) => (s >= 3600 ? `${(s / 3600).toFixed(2)} h` : `${(s / 60).toFixed(1)} min`);

/** [name, what, paper accuracy (abstain), paper median] */
const ROWS = [
  ['table1-k20', 'Table 1, k = 20, multichannel', '90.29% (1.81%)', '3'],
  ['table1-k45', 'Table 1, k = 45, multichannel', '96.72% (0.45%)', '8'],
  ['table1-k100', 'Table 1, k = 100, multichannel', '98.75% (0.16%)', '4'],
  ['table8-k45-mean', 'Table 8, k = 45, mean NULL', '96.27% (0.43%)', '7'],
];
const LEE = [
  ['table7-lee-noise', 'Lee et al. noise κ = 0.1 (tight bound), Lee protocol', '4'],
  ['table7-ablation-k45', 'ablation k = 45, Lee protocol', '8'],
  ['table7-lee-noise-k0.2', 'Lee et al. noise κ = 0.2 (superseded choice), Lee protocol', '4'],
];

const resultFile = (name) => join(here, 'results', `${name}.jsonl`);
/** The JSON rows of a run ([] when it has not run). */
const readRows = (name) =>
  existsSync(resultFile(name)) ? readFileSync(resultFile(name), 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];

function stats(name, include) {
  const file = resultFile(name);
  if (!existsSync(file)) return undefined;
  const s = summarize(file, { include });
  const seconds = readRows(name).filter((r) => !include || include(r.index)).reduce((a, r) => a + r.seconds, 0);
  return { ...s, seconds };
}

const out = [];
out.push('| run | images | classification accuracy (abstained) | paper | median certified robustness | paper | certify wall time |');
out.push('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, what, paperAcc, paperMedian] of ROWS) {
  const s = stats(name);
  if (!s) out.push(`| ${what} | not run yet | | ${paperAcc} | | ${paperMedian} | |`);
  else out.push(`| ${what} | ${s.count} | ${pct(s.accuracy)} (${pct(s.abstainRate)}) | ${paperAcc} | ${s.medianCertifiedRadius ?? 'N/A'} | ${paperMedian} | ${hours(s.seconds)} |`);
}
out.push('');
out.push('Table 7 (MNIST row), Lee et al.\'s protocol n0 = 100, n = 100 000, α = 0.001:');
out.push('');
out.push('| run | images | classification accuracy (abstained) | median certified robustness | unit | paper | certify wall time |');
out.push('|---|---:|---:|---:|---|---:|---:|');
for (const [name, what, paperMedian] of LEE) {
  const s = stats(name);
  if (!s) out.push(`| ${what} | not run yet | | | | ${paperMedian} | |`);
  else out.push(`| ${what} | ${s.count} | ${pct(s.accuracy)} (${pct(s.abstainRate)}) | ${s.medianCertifiedRadius ?? 'N/A'} | ${s.unit} | ${paperMedian} | ${hours(s.seconds)} |`);
}
// Footnote 2: the same k = 45 model under both protocols, on the images both runs have certified.
const i7 = new Set(readRows('table7-ablation-k45').map((r) => r.index));
const common = new Set(readRows('table1-k45').map((r) => r.index).filter((i) => i7.has(i)));
if (common.size) {
  const t1 = stats('table1-k45', (i) => common.has(i));
  const t7 = stats('table7-ablation-k45', (i) => common.has(i));
  out.push('');
  out.push(`Footnote 2 (ablation under Lee's protocol): on the same ${common.size} images, k = 45 has median certified robustness ${t1.medianCertifiedRadius ?? 'N/A'} with n0 = 1 000, n = 10 000, α = 0.05 and ${t7.medianCertifiedRadius ?? 'N/A'} with n0 = 100, n = 100 000, α = 0.001 (accuracy ${pct(t1.accuracy)} vs ${pct(t7.accuracy)}).`);
}
const text = out.join('\n');
console.log(text);
if (process.argv.includes('--write')) {
  const file = join(root, 'docs/reproduction.md');
  const doc = readFileSync(file, 'utf8');
  const a = doc.indexOf('<!-- results:start -->');
  const b = doc.indexOf('<!-- results:end -->');
  writeFileSync(file, `${doc.slice(0, a)}<!-- results:start -->\n${text}\n${doc.slice(b)}`);
  console.log('wrote docs/reproduction.md');
}
