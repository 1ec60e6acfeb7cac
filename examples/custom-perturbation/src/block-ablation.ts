/**
 * Block ablation as a third-party plug-in: each sample keeps ONE random w×w block of pixel locations
 * (with wrap-around, so all H·W block positions are equally likely) and marks everything else NULL.
 *
 * Its robustness bound, by the same argument as Theorem 1: a sample can only differ between x and x′ if its
 * block contains one of the ρ changed locations. Each location lies in exactly w² of the H·W blocks, so by the
 * union bound P(block hits a change) ≤ Δ(ρ) = min(1, ρ·w²/(H·W)), and |p_i(x′) − p_i(x)| ≤ Δ(ρ).
 */
import { ArgumentError, definePlugin, locations, nextDown, nextUp, Type, type Perturbation, type PerturbedBatch, type PluginConfigEntry, type RobustnessBound, type Rng, type Shape, type Static } from '@ablate/core';

/** The options, declared once: the JSON Schema, the `BlockAblationOptions` type and the typed config entry. */
const options = Type.Object({ block: Type.Integer({ minimum: 1, description: 'Side w of the retained block.' }) }, { additionalProperties: false });
export type BlockAblationOptions = Static<typeof options>;

export class BlockAblation implements Perturbation {
  readonly type = 'block-ablation';
  readonly threatModel = 'l0-locations' as const;
  readonly usesNull = true;

  constructor(readonly options: BlockAblationOptions) {}

  validate(shape: Shape): void {
    const [, h, w] = shape;
    if (this.options.block > Math.min(h, w)) {
      throw new ArgumentError('block', `a ${this.options.block}×${this.options.block} block does not fit a ${h}×${w} image`, `choose block ≤ ${Math.min(h, w)}`);
    }
  }

  sample(x: Float32Array, shape: Shape, rng: Rng, out: PerturbedBatch, count: number): void {
    const [C, H, W] = shape;
    const d = H * W;
    const b = this.options.block;
    for (let s = 0; s < count; s++) {
      const top = rng.int(H);
      const left = rng.int(W);
      const mask = out.kept.subarray(s * d, (s + 1) * d);
      mask.fill(0);
      for (let dy = 0; dy < b; dy++) for (let dx = 0; dx < b; dx++) mask[((top + dy) % H) * W + ((left + dx) % W)] = 1;
      const values = out.values.subarray(s * C * d, (s + 1) * C * d);
      for (let c = 0; c < C; c++) for (let p = 0; p < d; p++) values[c * d + p] = mask[p] ? x[c * d + p]! : 0;
    }
  }

  bound(shape: Shape): RobustnessBound {
    this.validate(shape);
    const d = locations(shape);
    const area = this.options.block ** 2;
    // ρ·w² and d are exact integers; one division, rounded up by one ulp.
    const delta = (rho: number) => Math.min(1, nextUp((rho * area) / d));
    return {
      threatModel: 'l0-locations',
      unit: 'pixels',
      domain: 'integer',
      maxRadius: d,
      lower: (p, rho) => Math.max(0, nextDown(p - delta(rho))),
      upper: (p, rho) => Math.min(1, nextUp(p + delta(rho))),
    };
  }

  describe(): string {
    return `block-ablation(${this.options.block}×${this.options.block})`;
  }
}

/** The plug-in: its type name, its options (TypeBox) and its factory. */
export const blockAblationPlugin = definePlugin({
  kind: 'perturbation',
  type: 'block-ablation',
  description: 'Keep one random w×w block of pixels (with wrap-around); union-bound certificate.',
  options,
  create: (o) => new BlockAblation(o),
});

// The typed config learns the new type from the declaration: `{ type: 'block-ablation', block: 5 }` is checked.
declare module '@ablate/core' {
  interface PerturbationOptionsMap extends PluginConfigEntry<typeof blockAblationPlugin> {}
}

/** For `ablate --plugin`: the plug-ins this module provides. */
export const plugins = [blockAblationPlugin];
