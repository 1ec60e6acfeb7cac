// Core demo: certify a synthetic 28×28 image with a hand-written base classifier, through the config API.
// The core alone, no backend: a hand-written JS base classifier plugged in through the config API. (The README's main job is the MNIST run.)
import { createContainer, definePlugin, FunctionClassifier, maxCertifiedRadius, ablationBound, informationAblation } from '@ablate/core';

// A toy base classifier on the multichannel encoding [2, 28, 28]: it votes "1" when it sees more retained
// bright pixels in the left half than in the right half, else "0".
const toyPlugin = definePlugin({
  kind: 'classifier',
  type: 'toy-halves',
  description: 'left-vs-right brightness',
  schema: { properties: {} },
  create: () =>
    new FunctionClassifier({
      numClasses: 2,
      inputShape: [2, 28, 28],
      predict(row) {
        let left = 0;
        let right = 0;
        for (let y = 0; y < 28; y++)
          for (let x = 0; x < 28; x++) {
            const v = row[y * 28 + x];
            if (x < 14) left += v;
            else right += v;
          }
        return left > right ? 1 : 0;
      },
    }),
});

const config = {
  perturbation: { type: 'ablation', retain: 45 },
  encoder: { type: 'multichannel' },
  classifier: { type: 'toy-halves' },
  certifier: { type: 'cohen', alpha: 0.05, n0: 1000, n: 10000 },
  seed: 0,
};

const runtime = await createContainer(config, { plugins: [toyPlugin] });
const data = new Float32Array(28 * 28);
for (let y = 0; y < 28; y++) for (let x = 0; x < 12; x++) data[y * 28 + x] = 1; // a bright left band
const t0 = performance.now();
const cert = await runtime.smoothed.certify({ data, shape: [1, 28, 28] });
console.log(`certificate (${((performance.now() - t0) / 1000).toFixed(2)} s):`, JSON.stringify(cert));
console.log('planning: radius at k=45 if every sample were correct:', maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.9997004716 }));
console.log('information per ablated sample, k=45, 256 levels:', informationAblation(45), 'bits');
await runtime.dispose();
