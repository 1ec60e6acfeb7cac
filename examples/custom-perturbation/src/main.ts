/**
 * Registers the block-ablation plug-in through the public API, then certifies one synthetic image with both
 * certifiers (Cohen / Corollary 1 and Lecuyer / Corollary 2). Run: pnpm --filter @ablate/example-custom-perturbation start
 */
import { createContainer, definePlugin, FunctionClassifier, registry, Type, type Certificate, type PluginConfigEntry } from '@ablate/core';
import { blockAblationPlugin } from './block-ablation.js';

/** A toy base classifier on [2, 28, 28] multichannel input: class 1 if the retained block is mostly bright. */
const toyClassifier = definePlugin({
  kind: 'classifier',
  type: 'toy-brightness',
  description: 'bright vs dark retained block',
  options: Type.Object({}, { additionalProperties: false }),
  create: () =>
    new FunctionClassifier({
      numClasses: 2,
      inputShape: [2, 28, 28],
      predict: (row) => {
        let on = 0;
        let bright = 0;
        for (let p = 0; p < 784; p++) {
          const s = row[p]! + row[784 + p]!; // 1 for a retained pixel, 0 for NULL
          if (s > 0) {
            on++;
            bright += row[p]!;
          }
        }
        return bright > on / 2 ? 1 : 0;
      },
    }),
});

// Plug-in types join the typed config from their declaration, so `createContainer` checks their options.
declare module '@ablate/core' {
  interface ClassifierOptionsMap extends PluginConfigEntry<typeof toyClassifier> {}
}

export async function certifyWithBothCertifiers(options: { n0?: number; n?: number } = {}): Promise<Record<string, Certificate>> {
  // Third-party plug-ins go into the global registry (or pass them per container with { plugins }).
  if (!registry.get('perturbation', 'block-ablation')) registry.register(blockAblationPlugin);
  const image = { data: new Float32Array(784), shape: [1, 28, 28] as const };
  // mostly bright image with a dark corner
  for (let p = 0; p < 784; p++) image.data[p] = p % 28 < 22 ? 1 : 0;
  const results: Record<string, Certificate> = {};
  for (const certifier of ['cohen', 'lecuyer'] as const) {
    const runtime = await createContainer(
      {
        perturbation: { type: 'block-ablation', block: 5 },
        encoder: { type: 'multichannel' },
        classifier: { type: 'toy-brightness' },
        certifier: { type: certifier, alpha: 0.05, n0: options.n0 ?? 100, n: options.n ?? 10_000 },
        seed: 0,
      },
      { plugins: [toyClassifier] },
    );
    results[certifier] = await runtime.smoothed.certify(image);
    await runtime.dispose();
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await certifyWithBothCertifiers();
  for (const [name, cert] of Object.entries(results)) {
    console.log(`${name}: class ${cert.prediction}, certified radius ${cert.radius} ${cert.unit} (pA ≥ ${cert.pLower.toFixed(4)}; ${cert.method})`);
  }
}
