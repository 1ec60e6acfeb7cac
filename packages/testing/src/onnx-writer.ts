import onnxProto from 'onnx-proto';
import type { CnnSpec, CnnWeights } from './cnn.js';

const { onnx } = onnxProto;

/**
 * Serializes a CNN as an ONNX model (opset 13): input `input` [N, C, H, W] float32, output `logits` [N, classes].
 * Conv → Relu for each conv, Flatten(axis 1), then Gemm (transB) → Relu for each dense layer but the last.
 */
export function writeOnnxCnn(spec: CnnSpec, weights: CnnWeights, options: { inputName?: string; outputName?: string } = {}): Uint8Array {
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'logits';
  const initializer: InstanceType<typeof onnx.TensorProto>[] = [];
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const tensor = (name: string, dims: number[], data: Float32Array) =>
    initializer.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) }));
  const ints = (name: string, v: number[]) => onnx.AttributeProto.create({ name, ints: v, type: onnx.AttributeProto.AttributeType.INTS });
  const int = (name: string, v: number) => onnx.AttributeProto.create({ name, i: v, type: onnx.AttributeProto.AttributeType.INT });

  let current = inputName;
  spec.convs.forEach((c, i) => {
    const w = weights.convs[i]!;
    tensor(`conv${i}.weight`, w.shape, w.weight);
    tensor(`conv${i}.bias`, [w.shape[0]], w.bias);
    nodes.push(
      onnx.NodeProto.create({
        opType: 'Conv',
        input: [current, `conv${i}.weight`, `conv${i}.bias`],
        output: [`conv${i}`],
        attribute: [ints('kernel_shape', [c.kernel, c.kernel]), ints('strides', [c.stride, c.stride]), ints('pads', [c.pad, c.pad, c.pad, c.pad])],
      }),
    );
    nodes.push(onnx.NodeProto.create({ opType: 'Relu', input: [`conv${i}`], output: [`relu${i}`] }));
    current = `relu${i}`;
  });
  nodes.push(onnx.NodeProto.create({ opType: 'Flatten', input: [current], output: ['flat'], attribute: [int('axis', 1)] }));
  current = 'flat';
  spec.dense.forEach((_, i) => {
    const w = weights.dense[i]!;
    const last = i === spec.dense.length - 1;
    tensor(`fc${i}.weight`, w.shape, w.weight);
    tensor(`fc${i}.bias`, [w.shape[0]], w.bias);
    const out = last ? outputName : `fc${i}`;
    nodes.push(onnx.NodeProto.create({ opType: 'Gemm', input: [current, `fc${i}.weight`, `fc${i}.bias`], output: [out], attribute: [int('transB', 1)] }));
    if (!last) {
      nodes.push(onnx.NodeProto.create({ opType: 'Relu', input: [out], output: [`fcrelu${i}`] }));
      current = `fcrelu${i}`;
    }
  });
  const valueInfo = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const classes = spec.dense[spec.dense.length - 1]!;
  const graph = onnx.GraphProto.create({
    name: 'cnn',
    node: nodes,
    initializer,
    input: [valueInfo(inputName, ['N', spec.inChannels, spec.size, spec.size])],
    output: [valueInfo(outputName, ['N', classes])],
  });
  const model = onnx.ModelProto.create({ irVersion: 7, producerName: 'ablate-testing', opsetImport: [{ domain: '', version: 13 }], graph });
  return onnx.ModelProto.encode(model).finish();
}
