import onnxProto from 'onnx-proto';
import type { CnnSpec, CnnWeights } from './cnn.js';

const { onnx } = onnxProto;

/**
 * Reads back a CNN of the paper's shape (Conv/Relu…, Flatten, Gemm/Relu…) from ONNX bytes — ours or a PyTorch
 * export — as a spec and weights in PyTorch layout, so that it can be rewritten in another format (tfjs).
 */
export function readOnnxCnn(bytes: Uint8Array): { spec: CnnSpec; weights: CnnWeights } {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const init = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const floats = (name: string) => {
    const t = init.get(name);
    if (!t) throw new Error(`initializer ${name} not found`);
    if (t.rawData && t.rawData.length) return new Float32Array(new Uint8Array(t.rawData).buffer); // copy: rawData may view a larger buffer
    return Float32Array.from(t.floatData ?? []);
  };
  const dims = (name: string) => init.get(name)!.dims!.map(Number);
  const input = graph.input!.find((i) => !init.has(i.name!))!;
  const inDims = input.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue ?? 0));
  const spec: CnnSpec = { inChannels: inDims[1]!, size: inDims[2]!, convs: [], dense: [] };
  const weights: CnnWeights = { convs: [], dense: [], flat: { channels: 0, size: 0 } };
  let size = spec.size;
  for (const node of graph.node!) {
    const attr = (n: string) => node.attribute!.find((a) => a.name === n);
    if (node.opType === 'Conv') {
      const [w, b] = [node.input![1]!, node.input![2]!];
      const shape = dims(w) as [number, number, number, number];
      const stride = Number(attr('strides')?.ints?.[0] ?? 1);
      const pad = Number(attr('pads')?.ints?.[0] ?? 0);
      spec.convs.push({ out: shape[0], kernel: shape[2], stride, pad });
      weights.convs.push({ weight: floats(w), bias: floats(b), shape });
      size = Math.floor((size + 2 * pad - shape[2]) / stride) + 1;
      weights.flat = { channels: shape[0], size };
    } else if (node.opType === 'Gemm') {
      const [w, b] = [node.input![1]!, node.input![2]!];
      if (Number(attr('transB')?.i ?? 0) !== 1) throw new Error('only Gemm with transB = 1 is supported');
      const shape = dims(w) as [number, number];
      spec.dense.push(shape[0]);
      weights.dense.push({ weight: floats(w), bias: floats(b), shape });
    } else if (!['Relu', 'Flatten'].includes(node.opType!)) {
      throw new Error(`unsupported ONNX op ${node.opType}: readOnnxCnn reads the paper CNN's Conv/Relu/Flatten/Gemm graphs`);
    }
  }
  return { spec, weights };
}
