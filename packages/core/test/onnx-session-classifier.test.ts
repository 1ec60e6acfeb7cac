import { describe, expect, it } from 'vitest';
import { OnnxSessionClassifier, type OnnxOutputTensor, type OnnxRuntimeLike, type OnnxSessionLike } from '../src/index.js';

// OnnxSessionClassifier against hostile sessions: whatever a session's run returns, the classify loop makes a
// prediction only from a [count, classes] float tensor holding count·classes finite-argmax logits, and otherwise
// rejects with a typed error naming the model. (The real runtimes are exercised in @ablate/backend-onnx's and
// @ablate/backend-web's tests, which run the same loop on onnxruntime-node and onnxruntime-web.)

/** A stand-in for `ort.Tensor`: records what was fed. */
class FeedTensor {
  constructor(
    readonly type: string,
    readonly data: Float32Array,
    readonly dims: readonly number[],
  ) {}
}
const runtime: OnnxRuntimeLike = { Tensor: FeedTensor };

/** An output tensor that counts its dispose() calls. */
function tensor(type: string, data: unknown, dims: readonly number[]): OnnxOutputTensor & { disposed: number } {
  return {
    type,
    data,
    dims,
    disposed: 0,
    dispose() {
      this.disposed++;
    },
  };
}

type Run = (feeds: { readonly [name: string]: unknown }) => Promise<{ readonly [name: string]: unknown }>;

/** A session whose run is `run`; counts release() calls. */
function session(run: Run): OnnxSessionLike & { released: number } {
  return {
    released: 0,
    run: run as OnnxSessionLike['run'],
    async release() {
      this.released++;
    },
  };
}

class TestClassifier extends OnnxSessionClassifier {
  readonly type = 'onnx-test';
  constructor(s: OnnxSessionLike, numClasses = 3) {
    super(runtime, s, { inputName: 'x', outputName: 'logits', inputShape: ['N', 4], numClasses }, 16, '/models/m.onnx', 'ONNX');
  }
}

const SHAPE = [1, 2, 2] as const;
const input = new Float32Array(16 * 4);
/** A ModelError on `model` whose message (before its hint) is exactly `message`. */
const model = (message: string) => ({ code: 'ABLATE_MODEL', field: 'model', message: expect.stringMatching(new RegExp(`^model: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(|$)`)) });

describe('OnnxSessionClassifier: output checks before any vote', () => {
  it('a well-formed float32 output: the argmax of each row, from the rows fed', async () => {
    const fed: FeedTensor[] = [];
    const out = tensor('float32', Float32Array.of(0, 2, 1, 5, -1, 4), [2, 3]);
    const c = new TestClassifier(session(async (feeds) => (fed.push(feeds['x'] as FeedTensor), { logits: out })));
    expect([...(await c.classify(input, 2, [...SHAPE]))].slice(0, 2)).toEqual([1, 0]);
    expect(fed[0]!.dims).toEqual([2, 4]);
    expect(fed[0]!.data.length).toBe(8);
    expect(out.disposed).toBe(1);
  });

  it('a float64 output is read as such', async () => {
    const c = new TestClassifier(session(async () => ({ logits: tensor('float64', Float64Array.of(1, 1 + 2 ** -40, 1), [1, 3]) })));
    expect((await c.classify(input, 1, [...SHAPE]))[0]).toBe(1); // 1 + 2⁻⁴⁰ is not a float32: read as float64
  });

  it('a missing output, or one that is not a tensor: ModelError naming the model and the output', async () => {
    const missing = new TestClassifier(session(async () => ({ other: tensor('float32', new Float32Array(3), [1, 3]) })));
    await expect(missing.classify(input, 1, [...SHAPE])).rejects.toMatchObject(model('/models/m.onnx returned no output "logits"'));
    for (const value of [42, 'logits', null, { dims: 'ab', type: 'float32', data: new Float32Array(3) }, { dims: [1, 3], data: new Float32Array(3) }]) {
      const c = new TestClassifier(session(async () => ({ logits: value })));
      await expect(c.classify(input, 1, [...SHAPE]), JSON.stringify(value)).rejects.toMatchObject(model('/models/m.onnx returned a non-tensor output "logits"'));
    }
    for (const out of [undefined, null, 7]) {
      const c = new TestClassifier(session(async () => out as never));
      await expect(c.classify(input, 1, [...SHAPE])).rejects.toMatchObject(model('/models/m.onnx returned no output "logits"'));
    }
  });

  it('wrong dims or element type: the messages of before the refactor', async () => {
    const dims = new TestClassifier(session(async () => ({ logits: tensor('float32', new Float32Array(6), [3, 2]) })));
    await expect(dims.classify(input, 2, [...SHAPE])).rejects.toMatchObject(model('/models/m.onnx returned output "logits" of shape [3, 2] for a batch of 2 inputs; expected [2, 3]'));
    const type = new TestClassifier(session(async () => ({ logits: tensor('int32', new Int32Array(3), [1, 3]) })));
    await expect(type.classify(input, 1, [...SHAPE])).rejects.toMatchObject(model('/models/m.onnx returned output "logits" of type int32; expected float32 logits'));
  });

  it('data shorter than its dims say: refused, not voted from the rows that are there', async () => {
    // dims say [2, 3]; the data holds row 0 and one value of row 1 (the old loop read undefined as "not larger"
    // and predicted class 0 for row 1)
    const short = tensor('float32', Float32Array.of(0, 2, 1, 5), [2, 3]);
    const c = new TestClassifier(session(async () => ({ logits: short })));
    await expect(c.classify(input, 2, [...SHAPE])).rejects.toMatchObject(
      model('/models/m.onnx returned output "logits" of type float32 whose data is a Float32Array of 4 values; expected a Float32Array of 6 values'),
    );
    expect(short.disposed).toBe(1);
  });

  it('data of another kind than its type says (strings, a plain array, float64 data called float32): refused', async () => {
    const cases: [string, unknown, string][] = [
      ['float32', ['0', '9', '10'], 'a plain array'],
      ['float32', [0, 9, 1], 'a plain array'],
      ['float32', undefined, 'undefined'],
      ['float32', Float64Array.of(0, 9, 1), 'a Float64Array of 3 values'],
      ['float64', Float32Array.of(0, 9, 1), 'a Float32Array of 3 values'],
    ];
    for (const [type, data, got] of cases) {
      const c = new TestClassifier(session(async () => ({ logits: tensor(type, data, [1, 3]) })));
      const want = type === 'float32' ? 'Float32Array' : 'Float64Array';
      await expect(c.classify(input, 1, [...SHAPE])).rejects.toMatchObject(model(`/models/m.onnx returned output "logits" of type ${type} whose data is ${got}; expected a ${want} of 3 values`));
    }
  });

  it('NaN logits: no prediction (argmaxRows), the tensor is freed', async () => {
    const out = tensor('float32', Float32Array.of(0, NaN, 1), [1, 3]);
    const c = new TestClassifier(session(async () => ({ logits: out })));
    await expect(c.classify(input, 1, [...SHAPE])).rejects.toMatchObject({ code: 'ABLATE_MODEL', message: expect.stringContaining('/models/m.onnx returned logits without a valid argmax in 1 of 1 rows') });
    expect(out.disposed).toBe(1);
  });

  it('extra outputs a session returns besides the one fetched are freed too', async () => {
    const logits = tensor('float32', Float32Array.of(3, 2, 1), [1, 3]);
    const extra = tensor('float32', new Float32Array(5), [5]);
    const c = new TestClassifier(session(async () => ({ logits, extra, junk: 5 })));
    expect((await c.classify(input, 1, [...SHAPE]))[0]).toBe(0);
    expect([logits.disposed, extra.disposed]).toEqual([1, 1]);
  });
});

describe('OnnxSessionClassifier: dispose and concurrency', () => {
  const disposedError = { code: 'ABLATE_BACKEND', message: 'classify: the ONNX session was disposed' };

  it('dispose twice releases once; classify after dispose rejects with ABLATE_BACKEND', async () => {
    const s = session(async () => ({ logits: tensor('float32', new Float32Array(3), [1, 3]) }));
    const c = new TestClassifier(s);
    await c.dispose();
    await c.dispose();
    expect(s.released).toBe(1);
    await expect(c.classify(input, 1, [...SHAPE])).rejects.toMatchObject(disposedError);
  });

  it('a run that resolves after dispose(): no prediction from the released session, its output is freed', async () => {
    let finish!: () => void;
    const out = tensor('float32', Float32Array.of(0, 1, 0), [1, 3]);
    const c = new TestClassifier(session(() => new Promise((resolve) => (finish = () => resolve({ logits: out })))));
    const pending = c.classify(input, 1, [...SHAPE]);
    await c.dispose();
    finish();
    await expect(pending).rejects.toMatchObject(disposedError);
    expect(out.disposed).toBe(1);
  });

  it('a run that fails because dispose() released the session meanwhile (onnxruntime-node: "Session already disposed."): ABLATE_BACKEND', async () => {
    let released = false;
    const s = session(async () => {
      await new Promise((r) => setImmediate(r));
      if (released) throw new Error('Session already disposed.');
      return { logits: tensor('float32', new Float32Array(3), [1, 3]) };
    });
    s.release = async () => void (released = true);
    const c = new TestClassifier(s);
    const pending = c.classify(input, 1, [...SHAPE]);
    await c.dispose();
    await expect(pending).rejects.toMatchObject(disposedError);
  });

  it('a run that fails for its own reason (no dispose): ABLATE_BACKEND naming the model, the runtime\'s error as its cause', async () => {
    const boom = new RangeError('boom\n at the native frame');
    const c = new TestClassifier(session(async () => Promise.reject(boom)));
    const error = await c.classify(input, 1, [...SHAPE]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ABLATE_BACKEND', message: 'classify: ONNX failed to run /models/m.onnx: boom', cause: boom });
  });

  it('a batch that does not fit its input (direct calls): ArgumentError on count, ModelError on the shape, before any run', async () => {
    let runs = 0;
    const c = new TestClassifier(session(async () => (runs++, { logits: tensor('float32', new Float32Array(3), [1, 3]) })));
    const small = new Float32Array(8); // two rows of [1, 2, 2]
    for (const count of [3, -1, 1.5, NaN]) {
      await expect(c.classify(small, count, [...SHAPE])).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'count', message: `count: must be an integer in [0, 2] (the rows of \`input\` of shape [1, 2, 2]), got ${count}` });
    }
    await expect(c.classify(small, 1, [2, 1, 1])).rejects.toMatchObject({ code: 'ABLATE_MODEL', message: expect.stringContaining('/models/m.onnx takes input "x" of shape [N, 4], but the encoder produces [N, 2, 1, 1]') });
    expect(runs).toBe(0);
  });

  it('concurrent calls on one instance each get their own predictions (Promise.all), then the shared buffer again', async () => {
    const rows: Record<number, Float32Array> = { 1: Float32Array.of(9, 0, 0), 2: Float32Array.of(0, 9, 0, 0, 0, 9) };
    const c = new TestClassifier(
      session(async (feeds) => {
        const n = (feeds['x'] as FeedTensor).dims[0]!;
        await new Promise((r) => setTimeout(r, n === 1 ? 20 : 1)); // the first call finishes last
        return { logits: tensor('float32', rows[n], [n, 3]) };
      }),
    );
    const [a, b] = await Promise.all([c.classify(input, 1, [...SHAPE]), c.classify(input, 2, [...SHAPE])]);
    expect(a).not.toBe(b);
    expect([a[0], b[0], b[1]]).toEqual([0, 1, 2]);
    // one call at a time (the engine's way) reuses one buffer
    const first = await c.classify(input, 2, [...SHAPE]);
    const second = await c.classify(input, 1, [...SHAPE]);
    expect(second).toBe(first);
  });
});
