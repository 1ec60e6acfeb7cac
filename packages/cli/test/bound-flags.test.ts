import { describe, expect, it } from 'vitest';
import { ArgumentError } from '@ablate/core';
import { boundFromFlags, withFlags } from '../src/commands/bound-flags.js';
import { UsageError } from '../src/errors.js';

describe('bound-flags', () => {
  it('turns a core argument error into a usage error naming the flag, hint kept', () => {
    const call = () =>
      withFlags(() => {
        throw new ArgumentError('n0', '(1000) must be < maxSamples (900)', 'raise maxSamples or lower n0');
      });
    expect(call).toThrow(UsageError);
    expect(call).toThrow('--n0: (1000) must be < --max-samples (900) (raise maxSamples or lower n0)');
  });

  it('leaves other errors and unknown fields alone', () => {
    expect(() =>
      withFlags(() => {
        throw new ArgumentError('index', 'must be ≥ 0, got -1');
      }),
    ).toThrow(/^index: must be ≥ 0, got -1$/);
  });

  it('builds the bound of each perturbation from its flags', () => {
    expect(boundFromFlags({ perturbation: 'ablation', d: 784, retain: 45, levels: 256 }).maxRadius).toBe(784);
    expect(boundFromFlags({ perturbation: 'gaussian', sigma: 0.5, levels: 256 }).unit).toBe('l2');
    expect(() => boundFromFlags({ perturbation: 'ablation', retain: 45, levels: 256 })).toThrow('--d: is required for --perturbation ablation');
    expect(() => boundFromFlags({ perturbation: 'lee-noise', d: 10, levels: 256 }, { value: 1, source: '--curve' })).toThrow('--curve: κ = 1 must be in (0, 1)');
  });
});
