import { createSlot, registry, validateConfig, type RobustnessBound, type Shape, type SlotConfig } from '@ablate/core';
import { UsageError } from '../errors.js';
import type { BoundFlags } from './bound-flags.js';

/** Perturbations whose bound `ablate radius|plan` computes from flags alone (d and the parameter). */
export const FORMULA_PERTURBATIONS: readonly string[] = ['ablation', 'lee-noise', 'gaussian'];

/** The flags of `ablate radius|plan` that take the perturbation from the registry instead. */
export interface RegistryBoundFlags extends BoundFlags {
  config?: string;
  set?: string[];
  shape?: string;
  parts?: number;
  layout?: string;
  width?: number;
  orientation?: string;
  /** The global --plugin modules. */
  plugin: string[];
}

/** `--shape C,H,W` (or `H,W` for one channel). */
export function parseShape(text: string): Shape {
  const parts = text.split(/[,x×\s]+/).filter(Boolean).map(Number);
  if (parts.length === 2) parts.unshift(1);
  if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n >= 1 && n <= 1 << 20)) {
    throw new UsageError('--shape', `must be C,H,W (or H,W) of positive integers, got ${JSON.stringify(text)}`, 'e.g. --shape 1,28,28 for MNIST');
  }
  return parts as unknown as Shape;
}

/**
 * The robustness bound of any registered perturbation (built-in, of a --plugin module, or of the config's
 * "plugins"), for `ablate radius` and `ablate plan`: its options come from --config's perturbation, the flags
 * and --set, validated by the config schema and built by its plug-in; the bound is the perturbation's own
 * `bound(shape)` for the image shape --shape (or, for ablation and lee-noise, [1, 1, --d]).
 * Returns the bound and the validated perturbation slot; undefined when the flags alone give the bound (ablation, lee-noise, gaussian without --config,
 * --set or --shape): that path is unchanged.
 */
export async function registryBound(o: RegistryBoundFlags, levelsGiven: boolean): Promise<{ bound: RobustnessBound; perturbation: SlotConfig } | undefined> {
  if (FORMULA_PERTURBATIONS.includes(o.perturbation ?? '') && o.config === undefined && !o.set?.length && o.shape === undefined) return undefined;
  if (o.perturbation === undefined && o.config === undefined) throw new UsageError('--perturbation', 'is required (or a --config naming a perturbation)', 'e.g. --perturbation ablation --d 784 --retain 45');
  const { effectiveConfig } = await import('../config.js');
  const { preparePluginsFor } = await import('../plugins.js');
  const overrides = {
    perturbation: o.perturbation,
    retain: o.retain,
    levels: levelsGiven ? o.levels : undefined,
    keepProb: o.keepProb,
    sigma: o.sigma,
    parts: o.parts,
    layout: o.layout,
    width: o.width,
    orientation: o.orientation,
    set: o.set,
  };
  await preparePluginsFor({ config: o.config, plugin: o.plugin, ...overrides }, ['perturbation']);
  const { config, baseDir } = effectiveConfig(o.config, overrides);
  const slot = (config as unknown as { perturbation?: SlotConfig }).perturbation;
  if (!slot) throw new UsageError('--config', `${o.config} names no perturbation`, 'add "perturbation": { "type": … } or give --perturbation');
  const shape = o.shape !== undefined ? parseShape(o.shape) : ['ablation', 'lee-noise'].includes(slot.type) && o.d !== undefined ? ([1, 1, o.d] as Shape) : undefined;
  const valid = validateConfig<{ perturbation: SlotConfig }>({ perturbation: slot }, registry, { required: ['perturbation'] });
  if (!shape) throw new UsageError('--shape', `is required for --perturbation ${slot.type}: its bound depends on the image shape`, 'e.g. --shape 1,28,28 for MNIST');
  const perturbation = await createSlot(registry, 'perturbation', valid.perturbation, { baseDir, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  if (typeof perturbation.bound !== 'function') throw new UsageError('--perturbation', `${slot.type} has no robustness bound (it cannot be certified)`);
  return { bound: perturbation.bound(shape), perturbation: valid.perturbation };
}
