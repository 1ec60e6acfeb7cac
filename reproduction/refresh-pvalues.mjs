// Recomputes PREDICT's p-value of every committed row from its own counts (nA, nB) with the current
// binomialTestPValue (exact two-sided binomial test at ½, rounded up; docs/certificates.md). Rows written before
// that fix carried @stdlib's value, which was half the exact one below ~1e-16. Only `pValue` changes; a decision
// that would change at the row's α is an error (none does). Usage: node reproduction/refresh-pvalues.mjs [--check]
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { binomialTestPValue } from '@ablate/core';

const check = process.argv.includes('--check');
const root = new URL('.', import.meta.url).pathname;
const folders = ['results', 'results/predict', 'spot-check'].map((f) => join(root, f));
let changed = 0;
let stale = 0;
for (const folder of folders) {
  for (const name of readdirSync(folder).filter((f) => f.endsWith('.jsonl'))) {
    const file = join(folder, name);
    const meta = existsSync(`${file}.meta.json`) ? JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')) : {};
    const alpha = meta.config?.certifier?.alpha ?? 0.05; // the spot-check without a sidecar ran table1-k20 (α = 0.05)
    const lines = readFileSync(file, 'utf8').split('\n');
    let fileChanged = 0;
    const out = lines.map((line, i) => {
      if (!line.trim()) return line;
      const row = JSON.parse(line);
      const p = row.predict ?? (row.pValue !== undefined ? row : undefined);
      if (!p || typeof p.nA !== 'number' || typeof p.nB !== 'number' || typeof p.pValue !== 'number') return line;
      const fresh = binomialTestPValue(p.nA, p.nA + p.nB);
      if (fresh === p.pValue) return line;
      if (typeof alpha === 'number' && (fresh <= alpha) !== (p.pValue <= alpha)) {
        throw new Error(`${file}:${i + 1}: the decision at α = ${alpha} would change (${p.pValue} → ${fresh})`);
      }
      p.pValue = fresh;
      fileChanged++;
      return JSON.stringify(row);
    });
    if (fileChanged === 0) continue;
    stale += fileChanged;
    if (!check) {
      writeFileSync(file, out.join('\n'));
      changed += fileChanged;
    }
    console.log(`${check ? 'stale' : 'updated'}: ${file} (${fileChanged} rows)`);
  }
}
if (check && stale > 0) {
  console.error(`${stale} rows carry a p-value the current binomialTestPValue does not give; run without --check`);
  process.exit(1);
}
console.log(check ? 'every p-value is current' : `${changed} p-values recomputed`);
