import type * as tf from '@tensorflow/tfjs-core';
import { readModelFile } from '@ablate/core/node';
import { dirname, join, resolve } from 'node:path';
import { AblateError } from '@ablate/core';

/**
 * An IOHandler that reads a tfjs model from disk — model.json plus the weight files its manifest names —
 * without @tensorflow/tfjs-node (whose file:// handler needs the native addon). `path` may be the model.json
 * or the folder holding it.
 */
export function fileHandler(path: string): TfjsModelFiles {
  return modelFiles(path) as TfjsModelFiles;
}

/**
 * What `fileHandler` returns: a tfjs `io.IOHandler` (pass it to tfjs-layers' `loadLayersModel` / tfjs-converter's `loadGraphModel`)
 * plus `format()`. Typed without tfjs's own types so that @ablate/backend-tfjs's public declarations compile in
 * a strict build (`skipLibCheck: false`) that does not include @tensorflow's.
 */
export interface TfjsModelFiles {
  /** Reads model.json and its weight files: tfjs `ModelArtifacts`. */
  load(): Promise<object>;
  /** The model.json `format` (`layers-model`, `graph-model`), when it says. */
  format(): Promise<string | undefined>;
}

/** The handler, with tfjs's types, for use inside this package. */
export function modelFiles(path: string): tf.io.IOHandler & { format(): Promise<string | undefined> } {
  const modelJson = path.endsWith('.json') ? path : join(path, 'model.json');
  const folder = dirname(modelJson);
  let parsed: Promise<tf.io.ModelJSON> | undefined;
  const read = () =>
    (parsed ??= readModelFile(modelJson, modelJson, 'give the folder holding model.json and its weight files').then(
      (bytes) => {
        const text = bytes.toString('utf8');
        try {
          return JSON.parse(text) as tf.io.ModelJSON;
        } catch (error) {
          throw new AblateError('ABLATE_MODEL', `model: ${modelJson} is not valid JSON (${(error as Error).message})`, { field: 'model' });
        }
      },
    ));
  return {
    async format() {
      return (await read()).format;
    },
    async load() {
      const json = await read();
      if (!json.modelTopology) throw new AblateError('ABLATE_MODEL', `model: ${modelJson} has no modelTopology`, { field: 'model' });
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const file = resolve(folder, p);
          try {
            buffers.push(await readModelFile(file, `weight file ${file} (named in ${modelJson})`));
          } catch (error) {
            if ((error as AblateError).message?.includes('not a regular file')) throw error;
            throw new AblateError('ABLATE_MODEL', `model: weight file ${file} (named in ${modelJson}) cannot be read`, { field: 'model' });
          }
        }
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
      };
    },
  };
}
