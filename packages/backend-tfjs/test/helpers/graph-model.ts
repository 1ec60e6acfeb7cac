import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a hand-made tfjs GraphModel (model.json + one weight shard) into `folder`: logits = reshape(x, [-1, 1568])
 * · W + b on NHWC input [N, 28, 28, 2], 10 classes. With `dropLastRow`, the logits are cut by a StridedSlice to rows
 * [0, N − 1): the model loads (one probe row gives [0, 10]) but returns one row fewer than it is given.
 */
export function writeLinearGraphModel(folder: string, W: Float32Array, b: Float32Array, { dropLastRow = false } = {}): void {
  mkdirSync(folder, { recursive: true });
  const f32 = (name: string, dims: number[]) => ({ name, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } } } } });
  const i32 = (name: string, n: number) => ({ name, op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: String(n) }] } } } } });
  const T = { T: { type: 'DT_FLOAT' } };
  const slice = ['begin', 'end', 'strides'];
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '28' }, { size: '28' }, { size: '2' }] } } } },
    f32('W', [1568, 10]),
    f32('b', [10]),
    i32('shape', 2),
    ...(dropLastRow ? slice.map((name) => i32(name, 2)) : []),
    { name: 'flat', op: 'Reshape', input: ['x', 'shape'], attr: { ...T, Tshape: { type: 'DT_INT32' } } },
    { name: 'mm', op: 'MatMul', input: ['flat', 'W'], attr: { ...T, transpose_a: { b: false }, transpose_b: { b: false } } },
    { name: dropLastRow ? 'all' : 'logits', op: 'BiasAdd', input: ['mm', 'b'], attr: { ...T, data_format: { s: Buffer.from('NHWC').toString('base64') } } },
    ...(dropLastRow
      ? [
          {
            name: 'logits',
            op: 'StridedSlice',
            input: ['all', ...slice],
            attr: { ...T, Index: { type: 'DT_INT32' }, begin_mask: { i: '0' }, end_mask: { i: '2' }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' }, shrink_axis_mask: { i: '0' } },
          },
        ]
      : []),
  ];
  // int32 constants: shape [-1, 1568]; for the slice, begin [0, 0], end [-1, 0] (end_mask keeps every column), strides [1, 1]
  const ints = new Int32Array(dropLastRow ? [-1, 1568, 0, 0, -1, 0, 1, 1] : [-1, 1568]);
  writeFileSync(join(folder, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(W.buffer), Buffer.from(b.buffer), Buffer.from(ints.buffer)]));
  writeFileSync(
    join(folder, 'model.json'),
    JSON.stringify({
      format: 'graph-model',
      generatedBy: 'hand',
      convertedBy: 'ablate tests',
      modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: [
        {
          paths: ['group1-shard1of1.bin'],
          weights: [
            { name: 'W', shape: [1568, 10], dtype: 'float32' },
            { name: 'b', shape: [10], dtype: 'float32' },
            ...['shape', ...(dropLastRow ? slice : [])].map((name) => ({ name, shape: [2], dtype: 'int32' })),
          ],
        },
      ],
    }),
  );
}
