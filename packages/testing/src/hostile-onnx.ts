import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** A linear model whose output can be made to break the BaseClassifier contract, for reliability tests. */
export interface HostileOnnxSpec {
  /** Input [C, H, W]; the model takes [N, C, H, W]. */
  inputShape: [number, number, number];
  /** Width of the logits the model really computes. */
  classes: number;
  /** Width the model declares for its output (default: `classes`). */
  declaredClasses?: number;
  /** Per-class bias added to every row (NaN, ±Infinity allowed); default zeros. */
  bias?: number[];
  /** Weight of the input's mean pixel in logit j (default 0): lets rows differ by input. */
  slope?: number[];
  /**
   * `drop-last-row`: slice the last row off (returns N − 1 rows for N inputs).
   * `input-dependent-width`: return the first declaredClasses + ceil(max x) of the `classes` columns, a width
   * shape inference cannot know, so the declared width survives loading and is wrong at run time for inputs
   * with values above 0.
   */
  tail?: 'drop-last-row' | 'input-dependent-width';
}

/**
 * Serializes a deliberately broken classifier as an ONNX model (opset 13):
 * logits[n, j] = slope[j] · mean(x[n]) + bias[j], optionally declared with another width or cut by one row.
 * Input `input` [N, C, H, W] float32, output `logits` declared [N, declaredClasses].
 */
export function writeHostileOnnx(spec: HostileOnnxSpec): Uint8Array {
  const [C, H, W] = spec.inputShape;
  const F = C * H * W;
  const classes = spec.classes;
  const slope = spec.slope ?? new Array<number>(classes).fill(0);
  const bias = spec.bias ?? new Array<number>(classes).fill(0);
  const weight = new Float32Array(classes * F);
  for (let j = 0; j < classes; j++) weight.fill(slope[j]! / F, j * F, (j + 1) * F);
  const float = (name: string, dims: number[], data: Float32Array) =>
    onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
  const int64 = (name: string, values: number[]) => onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values });
  const initializer = [float('fc.weight', [classes, F], weight), float('fc.bias', [classes], Float32Array.from(bias))];
  const nodes = [
    onnx.NodeProto.create({ opType: 'Flatten', input: ['input'], output: ['flat'], attribute: [onnx.AttributeProto.create({ name: 'axis', i: 1, type: onnx.AttributeProto.AttributeType.INT })] }),
  ];
  const gemmOut = spec.tail ? 'all' : 'logits';
  nodes.push(
    onnx.NodeProto.create({ opType: 'Gemm', input: ['flat', 'fc.weight', 'fc.bias'], output: [gemmOut], attribute: [onnx.AttributeProto.create({ name: 'transB', i: 1, type: onnx.AttributeProto.AttributeType.INT })] }),
  );
  if (spec.tail === 'drop-last-row') {
    initializer.push(int64('starts', [0]), int64('ends', [-1]), int64('axes', [0]));
    nodes.push(onnx.NodeProto.create({ opType: 'Slice', input: ['all', 'starts', 'ends', 'axes'], output: ['logits'] }));
  } else if (spec.tail === 'input-dependent-width') {
    initializer.push(int64('starts', [0]), int64('axes', [1]), int64('declared', [spec.declaredClasses ?? classes]), int64('one', [1]));
    const attr = (name: string, i: number) => onnx.AttributeProto.create({ name, i, type: onnx.AttributeProto.AttributeType.INT });
    nodes.push(
      onnx.NodeProto.create({ opType: 'ReduceMax', input: ['input'], output: ['xmax'], attribute: [attr('keepdims', 0)] }),
      onnx.NodeProto.create({ opType: 'Ceil', input: ['xmax'], output: ['xceil'] }),
      onnx.NodeProto.create({ opType: 'Cast', input: ['xceil'], output: ['extra'], attribute: [attr('to', onnx.TensorProto.DataType.INT64)] }),
      onnx.NodeProto.create({ opType: 'Reshape', input: ['extra', 'one'], output: ['extra1'] }),
      onnx.NodeProto.create({ opType: 'Add', input: ['declared', 'extra1'], output: ['ends'] }),
      onnx.NodeProto.create({ opType: 'Slice', input: ['all', 'starts', 'ends', 'axes'], output: ['logits'] }),
    );
  }
  const valueInfo = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const graph = onnx.GraphProto.create({
    name: 'hostile',
    node: nodes,
    initializer,
    input: [valueInfo('input', ['N', C, H, W])],
    output: [valueInfo('logits', [spec.tail === 'drop-last-row' ? 'M' : 'N', spec.declaredClasses ?? classes])],
  });
  const model = onnx.ModelProto.create({ irVersion: 7, producerName: 'ablate-testing', opsetImport: [{ domain: '', version: 13 }], graph });
  return onnx.ModelProto.encode(model).finish();
}
