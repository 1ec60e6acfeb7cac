import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictSampleCount } from '../src/predict-samples.js';
import { summarize } from '../src/summary.js';

describe('predictSampleCount', () => {
  it('predict.n (--predict-n) wins over every certifier', () => {
    expect(predictSampleCount({ certifier: { type: 'cohen', n: 10000 }, predict: { n: 300 } })).toBe(300);
    expect(predictSampleCount({ certifier: { type: 'sequential', maxSamples: 11000 }, predict: { n: 300 } })).toBe(300);
  });

  it('the sequential certifier (no fixed n): its maxSamples budget, not maxSamples − n0', () => {
    expect(predictSampleCount({ certifier: { type: 'sequential', maxSamples: 11000, n0: 1000 } as never })).toBe(11000);
    expect(predictSampleCount({ certifier: { type: 'sequential', maxSamples: 600, n: 17 }, predict: {} })).toBe(600);
  });

  it('fixed-n certifiers: their n (Cohen unchanged)', () => {
    expect(predictSampleCount({ certifier: { type: 'cohen', n: 10000 } })).toBe(10000);
    expect(predictSampleCount({ certifier: { type: 'lecuyer', n: 400 }, predict: {} })).toBe(400);
    expect(predictSampleCount({ certifier: { type: 'vote-gap' } })).toBeUndefined();
  });
});

describe('summarize: PREDICT samples of older certify --predict rows', () => {
  it('rows without samples nor predict.n: n0 + n + the run’s PREDICT count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablate-predict-samples-'));
    const f = join(dir, 'old.jsonl');
    const row = (index: number) => ({ index, label: 1, prediction: 1, radius: 2, correct: true, pLower: 0.9, nA: 9, n: 10, predict: { prediction: 1 } });
    writeFileSync(f, `${JSON.stringify(row(0))}\n${JSON.stringify(row(1))}\n`);
    const meta = { perturbation: 'ablation(k=45)', unit: 'pixels', command: 'certify', config: { certifier: { type: 'cohen', n0: 10, n: 100 }, predict: {} } };
    writeFileSync(`${f}.meta.json`, JSON.stringify(meta));
    expect(summarize(f).samples).toEqual({ mean: 210, median: 210 });
    writeFileSync(`${f}.meta.json`, JSON.stringify({ ...meta, config: { ...meta.config, predict: { n: 50 } } }));
    expect(summarize(f).samples).toEqual({ mean: 160, median: 160 });
  });
});
