import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readModelFile } from '@ablate/core/node';
import type { OnnxPluginOptions } from './plugin.js';
import { AblateError, ArgumentError, ModelError, OnnxSessionClassifier, quote, type ModelIo } from '@ablate/core';

/**
 * The execution providers onnxruntime-node has on some platform: `cpu` everywhere; `webgpu` (Windows, macOS,
 * Linux x64; needs a GPU adapter); `cuda` and `tensorrt` (Linux x64, with NVIDIA's libraries); `dml` (DirectML,
 * Windows); `coreml` (macOS). The config schema accepts all of them, so that one config can name the provider of
 * each machine it runs on; `OnnxClassifier.create` refuses one that this platform's onnxruntime-node does not
 * have at all (see `availableExecutionProviders()`), where ONNX Runtime itself would silently drop it.
 */
export const KNOWN_EXECUTION_PROVIDERS = ['cuda', 'tensorrt', 'dml', 'coreml', 'webgpu', 'cpu'] as const;
/** An ONNX Runtime execution provider name: `cuda`, `tensorrt`, `dml`, `coreml`, `webgpu` or `cpu`. */
export type ExecutionProviderName = (typeof KNOWN_EXECUTION_PROVIDERS)[number];

/** Where each non-universal provider exists in onnxruntime-node (for the error that refuses one). */
const PROVIDER_PLATFORMS: Record<string, string> = {
  cuda: 'Linux x64 with CUDA',
  tensorrt: 'Linux x64 with TensorRT',
  dml: 'Windows (DirectML)',
  coreml: 'macOS',
  webgpu: 'Windows, macOS and Linux x64',
};

/** Fallback warnings already printed in this process (each is printed once, however many sessions are created). */

/** Options of `OnnxClassifier.create`: a config's `onnx` options (the plug-in passes them), plus `baseDir` and `warn`. */
export interface OnnxClassifierOptions extends OnnxPluginOptions {
  /** Folder a relative `model` path resolves against. Default the working directory. */
  baseDir?: string;
  /** Where the one-time fallback warning goes. Default console.warn. */
  warn?: (message: string) => void;
}

/**
 * A BaseClassifier backed by an ONNX Runtime InferenceSession (onnxruntime-node). Reads input/output names and
 * shapes from the model, checks them against the encoder at start-up, runs batches and takes the argmax of the
 * logits into a reused buffer (the classify loop is @ablate/core's `OnnxSessionClassifier`, shared with
 * @ablate/backend-web).
 */
export class OnnxClassifier extends OnnxSessionClassifier {
  readonly type = 'onnx';

  private constructor(
    session: ort.InferenceSession,
    io: ModelIo,
    /** The execution provider the session runs on. */
    readonly executionProvider: string,
    batchSize: number,
    source: string,
  ) {
    super(ort, session, io, batchSize, source, 'ONNX');
  }

  /** Loads the model, picks the first available execution provider (warning on fallback) and reads the model's input and output. */
  static async create(options: OnnxClassifierOptions): Promise<OnnxClassifier> {
    const warn = options.warn ?? ((m: string) => console.warn(m));
    const providers = OnnxClassifier.providerList(options.executionProviders, KNOWN_EXECUTION_PROVIDERS, 'cpu', '["cuda", "cpu"]');
    const here = availableExecutionProviders().map((b) => b.name);
    const absent = providers.filter((p) => !here.includes(p));
    if (absent.length) {
      throw new ArgumentError(
        'executionProviders',
        `${absent.map((p) => `"${p}" (${PROVIDER_PLATFORMS[p] ?? 'another platform'})`).join(', ')} ${absent.length > 1 ? 'are' : 'is'} not in onnxruntime-node on ${process.platform}/${process.arch}, which has ${here.join(', ')}`,
        `list only providers of this platform, e.g. ${JSON.stringify(here.includes('cuda') ? ['cuda', 'cpu'] : ['cpu'])}`,
      );
    }
    const batchSize = OnnxClassifier.batchSizeOption(options.batchSize);
    const model: unknown = options.model;
    if (typeof model !== 'string' && !(model instanceof Uint8Array)) {
      throw new ArgumentError('model', `must be a path or the model bytes (a Uint8Array or Buffer), got ${quote(model)}`);
    }
    if (model.length === 0) throw new ArgumentError('model', typeof model === 'string' ? 'must be a non-empty path' : 'the model bytes are empty');
    const source = typeof model === 'string' ? resolve(options.baseDir ?? process.cwd(), model) : `<model bytes (${model.byteLength} bytes)>`;
    let bytes: Uint8Array;
    if (typeof model === 'string') {
      bytes = await readModelFile(source, source); // regular files only, size-capped: never a pipe or /dev/zero
    } else bytes = model;

    const base: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.intraOpNumThreads ?? 0,
      interOpNumThreads: options.interOpNumThreads ?? 0,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    };
    // ONNX Runtime prints a native error for every provider library it cannot load; our single warning below
    // says the same in one line, so silence the native log unless the user has set a level themselves.
    if (providers.some((p) => p !== 'cpu') && ort.env.logLevel === 'warning') ort.env.logLevel = 'fatal';
    // Try the requested providers; drop the first one that cannot be loaded (warning once), unless strict.
    let session: ort.InferenceSession | undefined;
    let remaining = providers;
    const failures: string[] = [];
    while (!session) {
      try {
        session = await ort.InferenceSession.create(bytes, { ...base, executionProviders: remaining });
      } catch (error) {
        const message = (error as Error).message;
        const failed = remaining.find((p) => p !== 'cpu' && new RegExp(p, 'i').test(message)) ?? (remaining.length > 1 ? remaining[0] : undefined);
        if (!failed || remaining[0] === 'cpu' || /protobuf|parsing|invalid model|load model/i.test(message)) {
          throw new ModelError('model', `ONNX Runtime cannot load ${source}: ${message.split('\n')[0]}`, 'is it a valid .onnx file?');
        }
        failures.push(`${failed} (${message.split('\n')[0]})`);
        if (options.strict) {
          throw new AblateError('ABLATE_BACKEND', `executionProviders: "${failed}" is not available: ${message.split('\n')[0]}`, {
            field: 'executionProviders',
            hint: 'install the CUDA provider (docs/backends.md) or set strict: false to fall back',
          });
        }
        remaining = remaining.filter((p) => p !== failed);
        if (remaining.length === 0) remaining = ['cpu'];
      }
    }
    const chosen = remaining[0]!;
    const warning = `@ablate/backend-onnx: ${failures.join('; ')} is not available; running on ${chosen}. To enable CUDA see "Enabling CUDA" in @ablate/backend-onnx's README (node_modules/@ablate/backend-onnx/README.md); to silence this, list only ['cpu'] in executionProviders.`;
    if (failures.length) OnnxClassifier.warnOnce(warn, warning);
    return new OnnxClassifier(session, await OnnxClassifier.sessionIo(session, options), chosen, batchSize, source);
  }
}

/**
 * The providers this platform's onnxruntime-node build has (cpu and webgpu are bundled; cuda and tensorrt need
 * their provider libraries, and fall back to the next provider when those are missing).
 */
export function availableExecutionProviders(): { name: string; bundled: boolean }[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}
