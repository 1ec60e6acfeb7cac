/** The config fields that decide PREDICT's sample count (a validated config, or a sidecar's recorded one). */
export interface PredictSampleConfig {
  certifier?: { type?: string; n?: unknown; maxSamples?: unknown };
  predict?: { n?: unknown } | null;
}

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined);

/**
 * PREDICT's sample count per image (`ablate predict`, `certify --predict`, the sidecar's recorded `predict.n`,
 * summarize's accounting): `predict.n` (`--predict-n`) when given; else, for the `sequential` certifier (it has no
 * fixed n), its budget `maxSamples`; else the certifier's `n` (Cohen, Lecuyer). Undefined when the config names
 * none of these (e.g. a plug-in certifier without `n`).
 */
export function predictSampleCount(config: PredictSampleConfig): number | undefined {
  const explicit = count(config.predict?.n);
  if (explicit !== undefined) return explicit;
  const certifier = config.certifier;
  if (certifier?.type === 'sequential') return count(certifier.maxSamples);
  return count(certifier?.n);
}
