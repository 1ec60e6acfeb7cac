import { ModelError } from '../errors.js';
import type { Shape } from '../shape.js';

/** What an ONNX session says about one input or output (onnxruntime-node's and onnxruntime-web's `ValueMetadata`). @category Plug-in authors */
export interface ModelValueMetadata {
  /** False for sequences and maps. */
  readonly isTensor: boolean;
  /** Element type, e.g. `float32` (tensors only). */
  readonly type?: string;
  /** Declared dimensions; symbolic ones are strings (tensors only). */
  readonly shape?: readonly (number | string)[];
}

/** The resolved input/output of an ONNX model: names, the input's declared dimensions and the class count. @category Plug-in authors */
export interface ModelIo {
  inputName: string;
  outputName: string;
  inputShape: readonly (number | string)[];
  numClasses: number;
}

/**
 * Resolves and checks an ONNX model's input and output, shared by every ONNX backend (onnxruntime-node,
 * onnxruntime-web) so they refuse the same models with the same errors: the input must be a float32 tensor,
 * the output logits `[N, classes]` with a fixed `classes ≥ 2`. Names default to the first input/output.
 * @category Plug-in authors
 */
export function resolveModelIo(
  session: { readonly inputNames: readonly string[]; readonly outputNames: readonly string[]; readonly inputMetadata: readonly ModelValueMetadata[]; readonly outputMetadata: readonly ModelValueMetadata[] },
  wanted: { inputName?: string; outputName?: string },
): ModelIo {
  const inputName = wanted.inputName ?? session.inputNames[0];
  const outputName = wanted.outputName ?? session.outputNames[0];
  if (!inputName || !session.inputNames.includes(inputName)) {
    throw new ModelError('inputName', `the model has no input "${inputName}"`, `its inputs are: ${session.inputNames.join(', ')}`);
  }
  if (!outputName || !session.outputNames.includes(outputName)) {
    throw new ModelError('outputName', `the model has no output "${outputName}"`, `its outputs are: ${session.outputNames.join(', ')}`);
  }
  const inMeta = session.inputMetadata[session.inputNames.indexOf(inputName)]!;
  const outMeta = session.outputMetadata[session.outputNames.indexOf(outputName)]!;
  if (!inMeta.isTensor || inMeta.type !== 'float32') {
    throw new ModelError('model', `input "${inputName}" must be a float32 tensor, the model declares ${inMeta.isTensor ? inMeta.type : 'a non-tensor'}`);
  }
  const outShape = outMeta.isTensor ? (outMeta.shape ?? []) : [];
  const classes = outShape.length === 2 && typeof outShape[1] === 'number' ? outShape[1] : undefined;
  if (classes === undefined || classes < 2) {
    throw new ModelError('model', `output "${outputName}" must be logits of shape [N, classes], the model declares [${outShape.join(', ')}]`);
  }
  return { inputName, outputName, inputShape: inMeta.shape ?? [], numClasses: classes };
}

/**
 * Checks that a model input of declared dimensions `dims` takes `[N, C′, H, W]` (or `[N, C′·H·W]`) for the
 * encoder's output shape; otherwise a ModelError that says which encoder the model wants.
 * @category Plug-in authors
 */
export function checkModelInputShape(dims: readonly (number | string)[], encodedShape: Shape, source: string, inputName: string): void {
  const F = encodedShape[0] * encodedShape[1] * encodedShape[2];
  const fits = (want: number[]) => dims.length === want.length + 1 && want.every((v, i) => typeof dims[i + 1] !== 'number' || dims[i + 1] === v);
  if (fits([...encodedShape]) || fits([F])) return;
  throw new ModelError(
    'model',
    `${source} takes input "${inputName}" of shape [${dims.join(', ')}], but the encoder produces [N, ${encodedShape.join(', ')}]`,
    encodedShape[0] === 2 * (Number(dims[1]) || 0)
      ? 'the model was trained without the multichannel encoding: use "encoder": {"type": "mean"} or "identity"'
      : Number(dims[1]) === 2 * encodedShape[0]
        ? 'the model expects the multichannel encoding: use "encoder": {"type": "multichannel"}'
        : 'use the encoder and input size the model was trained with',
  );
}

/**
 * Checks one batch's output before its votes are read: `[count, classes]` of float32/float64, or the votes would
 * read past its end (a model may declare one shape and return another).
 * @category Plug-in authors
 */
export function checkLogitsOutput(dims: readonly number[], type: string, count: number, numClasses: number, source: string, outputName: string): void {
  if (dims.length !== 2 || dims[0] !== count || dims[1] !== numClasses) {
    throw new ModelError('model', `${source} returned output "${outputName}" of shape [${dims.join(', ')}] for a batch of ${count} inputs; expected [${count}, ${numClasses}]`, 'the model must return one row of logits per input, as wide as its declared class count');
  }
  if (type !== 'float32' && type !== 'float64') {
    throw new ModelError('model', `${source} returned output "${outputName}" of type ${type}; expected float32 logits`);
  }
}
