import { Rng } from '@ablate/core';

/** A CNN of the paper's shape on 28×28 inputs: convs (k×k, stride, pad) with ReLU, then dense layers with ReLU. */
export interface CnnSpec {
  inChannels: number;
  size: number;
  convs: { out: number; kernel: number; stride: number; pad: number }[];
  dense: number[];
}

/** The paper's MNIST CNN (supplementary material). */
export function paperCnn(inChannels = 2): CnnSpec {
  return {
    inChannels,
    size: 28,
    convs: [
      { out: 64, kernel: 4, stride: 2, pad: 1 },
      { out: 128, kernel: 4, stride: 2, pad: 1 },
    ],
    dense: [500, 100, 10],
  };
}

/** A small CNN of the same shape for fast tests. */
export function smallCnn(inChannels = 2): CnnSpec {
  return {
    inChannels,
    size: 28,
    convs: [
      { out: 8, kernel: 4, stride: 2, pad: 1 },
      { out: 16, kernel: 4, stride: 2, pad: 1 },
    ],
    dense: [32, 10],
  };
}

/** Weights in PyTorch/ONNX layout: conv [out, in, k, k]; dense [out, in] over a CHW-flattened input. */
export interface CnnWeights {
  convs: { weight: Float32Array; bias: Float32Array; shape: [number, number, number, number] }[];
  dense: { weight: Float32Array; bias: Float32Array; shape: [number, number] }[];
  /** Spatial size and channels after the convs (for the flatten). */
  flat: { channels: number; size: number };
}

/** Deterministic He-initialized weights (seeded), so the same weights can be written in several formats. */
export function cnnWeights(spec: CnnSpec, seed = 0): CnnWeights {
  const rng = new Rng(seed, 77);
  const normal = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  let channels = spec.inChannels;
  let size = spec.size;
  const convs = spec.convs.map((c) => {
    const fanIn = channels * c.kernel * c.kernel;
    const shape: [number, number, number, number] = [c.out, channels, c.kernel, c.kernel];
    const layer = { weight: normal(c.out * fanIn, Math.sqrt(2 / fanIn)), bias: normal(c.out, 0.05), shape };
    channels = c.out;
    size = Math.floor((size + 2 * c.pad - c.kernel) / c.stride) + 1;
    return layer;
  });
  let inputs = channels * size * size;
  const dense = spec.dense.map((out) => {
    const layer = { weight: normal(out * inputs, Math.sqrt(2 / inputs)), bias: normal(out, 0.05), shape: [out, inputs] as [number, number] };
    inputs = out;
    return layer;
  });
  return { convs, dense, flat: { channels, size } };
}
