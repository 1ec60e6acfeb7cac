import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * Substreams of one (seed, image index) stream, one per procedure, so that procedures run on the same image
 * draw independent samples (Cohen et al.'s PREDICT and CERTIFY each need fresh samples).
 * `certify` is substream 0, the stream every committed CERTIFY result was drawn from. `confirm` (2) is the
 * attacks' confirming PREDICT (`confirmDecider`): disjoint from every PREDICT query an attack's search asks.
 * @category Plug-in authors
 */
export const SUBSTREAM = { certify: 0, predict: 1, confirm: 2 } as const;

/**
 * The seeded random source every perturbation draws from: xoroshiro128+ from pure-rand, with exact uniform
 * integers (rejection sampling) and 53-bit uniform floats. One stream per (seed, image index), so an image's
 * certificate does not depend on which images ran before it — the property `--resume` relies on.
 * Substream s starts s xoroshiro jumps (2^64 steps each) after the stream's start, so substreams of one image
 * never overlap; substream 0 is the stream itself.
 * @category Plug-in authors
 */
export class Rng {
  private readonly gen: JumpableRandomGenerator;

  constructor(seed: number, stream = 0, substream = 0) {
    this.gen = xoroshiro128plus(mixSeed(seed, stream));
    // Discard the first outputs: xoroshiro's seeding puts the seed almost verbatim in the state.
    for (let i = 0; i < 16; i++) this.gen.next();
    if (!(Number.isInteger(substream) && substream >= 0 && substream < 64)) throw new RangeError(`substream must be an integer in [0, 64), got ${substream}`);
    for (let i = 0; i < substream; i++) this.gen.jump();
  }

  /** Uniform integer in [0, n), exact (rejection sampling). */
  int(n: number): number {
    return uniformInt(this.gen, 0, n - 1);
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.gen.next() >>> 0;
  }

  /** Uniform double in [0, 1), a multiple of 2^-53. */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Standard normal draw (Box–Muller, one value per call). */
  normal(): number {
    let u = this.float();
    while (u === 0) u = this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** Combines a user seed and a stream index into one 32-bit seed (murmur3 finalizer, bijective in each). @category Plug-in authors */
export function mixSeed(seed: number, stream: number): number {
  let h = (seed | 0) ^ Math.imul(stream | 0, 0x9e3779b9) ^ Math.imul((stream / 2 ** 32) | 0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
