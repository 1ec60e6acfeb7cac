/// <reference lib="dom" />
// The ablate browser demo: the shipped k = 45 model on onnxruntime-web, the smoothed classifier, the sequential
// certifier and the Pointwise attack of @ablate/core — all running in this page; the server only serves files.
import { AbortError, confirmDecider, createContainer, PointwiseAttack, queryStream, SmoothedClassifier, type Decide, type AblateConfig, type AblateRuntime, type BaseClassifier, type Image, type Shape } from '@ablate/core';
import '@ablate/backend-web'; // registers the "onnx-web" classifier
import type { WebOnnxClassifier } from '@ablate/backend-web';
import { idxDatasetFromBytes, imageFromImageData, type ByteImageDataset } from '@ablate/datasets/browser';
import demoConfig from '../config.json';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

/** The run's settings: config.json (the same file `ablate certify --config` reads), with the web backend. */
const { $schema: _schema, dataset: _dataset, classifier: _classifier, ...settings } = demoConfig as unknown as Record<string, unknown>;
const config = {
  ...settings,
  classifier: { type: 'onnx-web', model: new URL('./models/mnist-k45-multichannel.onnx', location.href).href, batchSize: 1000, numThreads: Number(params.get('threads') ?? 0), executionProviders: params.get('webgpu') === '1' ? ['webgpu', 'wasm'] : ['wasm'] },
} as unknown as AblateConfig;
const maxSamples = (config.certifier as { maxSamples?: number }).maxSamples ?? 11000;
/** Most queries of the attack (the paper runs it to the end; in a page a cap keeps it to about a minute). */
const attackQueries = Math.max(1, Number(params.get('attackQueries') ?? 3000) || 3000);
/** PREDICT's budget per attack query (sequential, at most this many samples): 100, as reproduction/results/table2-k45. */
const attackN = Math.max(2, Number(params.get('attackN') ?? 100) || 100);
/**
 * PREDICT's samples in each confirmation (issue 20 §6, docs/attacks.md): the search's cheap queries only guide it;
 * an example is shown only once a fresh PREDICT with exactly this many samples, from its own random stream
 * (`confirmStream(index, k)`), misclassifies or abstains on it. The paper's n = 10 000; `?confirmN=N` changes it.
 */
const confirmN = Math.max(2, Math.floor(Number(params.get('confirmN') ?? 10000)) || 10000);

/**
 * The page's view of the base classifier: counts every sample's vote (for the bars), reports progress after each
 * batch and yields to the page so it can paint and take a click. Cancel is core's own: an AbortSignal passed to
 * certify / the attack, checked before every batch.
 */
class ObservedClassifier implements BaseClassifier {
  readonly type = 'observed';
  votes = new Float64Array(10);
  samples = 0;
  onBatch: () => void = () => {};
  constructor(readonly inner: BaseClassifier) {}
  get numClasses() {
    return this.inner.numClasses;
  }
  get preferredBatchSize() {
    return this.inner.preferredBatchSize;
  }
  reset(): void {
    this.votes = new Float64Array(this.numClasses);
    this.samples = 0;
  }
  checkInputShape(shape: Shape) {
    return this.inner.checkInputShape(shape);
  }
  async classify(input: Float32Array, count: number, shape: Shape): Promise<ArrayLike<number>> {
    const out = await this.inner.classify(input, count, shape);
    for (let i = 0; i < count; i++) this.votes[out[i]!]!++;
    this.samples += count;
    this.onBatch();
    await new Promise((r) => setTimeout(r, 0));
    return out;
  }
  dispose() {
    return this.inner.dispose();
  }
}

let rt: AblateRuntime;
let observed: ObservedClassifier;
let smoothed: SmoothedClassifier;
let mnist: ByteImageDataset | undefined;
let current: { image: Image; index: number; label: number | null } | undefined;
let busy = false;
/** The running certification's or attack's controller; cancel aborts it. */
let controller: AbortController | undefined;

function status(text: string, error = false): void {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function paint(canvas: HTMLCanvasElement, image: Image): void {
  const [, H, W] = image.shape;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  for (let p = 0; p < H * W; p++) {
    const v = Math.round(image.data[p]! * 255);
    img.data.set([v, v, v, 255], 4 * p);
  }
  ctx.putImageData(img, 0, 0);
}

function renderVotes(): void {
  const total = observed.samples || 1;
  const top = observed.votes.indexOf(Math.max(...observed.votes));
  $('votes').innerHTML = [...observed.votes]
    .map((v, c) => `<b data-class="${c}" class="${c === top && observed.samples ? 'top' : ''}">${c}</b><div class="bar${c === top && observed.samples ? ' top' : ''}"><span style="width:${((100 * v) / total).toFixed(1)}%"></span></div><span data-votes="${c}">${v}</span>`)
    .join('');
}

function clearResults(): void {
  for (const id of ['prediction', 'radius', 'plower', 'samples', 'rate', 'magnitude']) $(id).textContent = '—';
  $('progress-text').textContent = '';
  $('attack-progress').textContent = '';
  $('attack-verdict').textContent = '';
  $('attack-confirmation').textContent = '';
  ($('progress') as HTMLProgressElement).value = 0;
  $<HTMLCanvasElement>('adversarial').getContext('2d')!.clearRect(0, 0, 28, 28);
  document.body.dataset.certified = '';
  document.body.dataset.attacked = '';
  observed?.reset();
  if (observed) renderVotes();
}

function setImage(image: Image, index: number, label: number | null): void {
  current = { image, index, label };
  $('label').textContent = label === null ? 'drawn (none)' : String(label);
  paint($<HTMLCanvasElement>('original'), image);
  clearResults();
}

function setBusy(b: boolean, which: 'certify' | 'attack' | null = null): void {
  busy = b;
  $<HTMLButtonElement>('certify').disabled = b || !current;
  $<HTMLButtonElement>('attack').disabled = b || !current;
  $<HTMLButtonElement>('cancel').disabled = !(b && which === 'certify');
  $<HTMLButtonElement>('attack-cancel').disabled = !(b && which === 'attack');
}

async function certify(): Promise<void> {
  if (!current || busy) return;
  clearResults();
  setBusy(true, 'certify');
  document.body.dataset.certifying = 'true';
  const t0 = performance.now();
  observed.onBatch = () => {
    ($('progress') as HTMLProgressElement).value = observed.samples;
    $('progress-text').textContent = `${observed.samples} of at most ${maxSamples} samples`;
    renderVotes();
  };
  try {
    controller = new AbortController();
    const c = await smoothed.certify(current.image, { index: current.index, signal: controller.signal });
    const seconds = (performance.now() - t0) / 1000;
    $('prediction').textContent = c.prediction === null ? 'abstain' : String(c.prediction);
    $('radius').textContent = c.radius === null ? '— (abstained)' : `${c.radius} pixels`;
    $('plower').textContent = c.pLower.toFixed(4);
    $('samples').textContent = String(c.samples);
    $('rate').textContent = `${Math.round(observed.samples / seconds)} samples/s (${seconds.toFixed(1)} s)`;
    $('progress-text').textContent = `done: ${c.samples} samples`;
    ($('progress') as HTMLProgressElement).value = maxSamples;
    document.body.dataset.certified = JSON.stringify({ prediction: c.prediction, radius: c.radius, pLower: c.pLower, nA: c.nA, n: c.n, samples: c.samples, seconds, sampled: observed.samples });
  } catch (error) {
    if (error instanceof AbortError) {
      $('progress-text').textContent = `cancelled after ${observed.samples} samples`;
      document.body.dataset.certified = 'cancelled';
    } else status(`certify failed: ${(error as Error).message}`, true);
  } finally {
    renderVotes();
    document.body.dataset.certifying = '';
    setBusy(false);
  }
}

async function attack(): Promise<void> {
  if (!current || busy) return;
  const { image, index, label } = current;
  const target = label ?? (await smoothed.predict(image, { index, n: attackN, sequential: true })).prediction;
  if (target === null) {
    $('attack-verdict').textContent = 'the smoothed classifier abstains on this image: nothing to attack';
    return;
  }
  setBusy(true, 'attack');
  observed.reset();
  observed.onBatch = () => {};
  const seed = (config as { seed?: number }).seed ?? 0;
  try {
    // each query: sequential PREDICT with at most attackN samples, on the query's own random stream (as predictDecider)
    const decide: Decide = async (x, key, o) => {
      const p = await smoothed.predict(x, { index: queryStream(key), n: attackN, sequential: true, ...(o?.signal ? { signal: o.signal } : {}) });
      return { prediction: p.prediction, samples: p.n };
    };
    // the confirming oracle: a fresh PREDICT with exactly confirmN samples (confirmDecider); its progress shown per batch
    const confirmOracle = confirmDecider(smoothed, { n: confirmN });
    let confirmations = 0;
    let searchText = '';
    const confirm: Decide = async (x, key, o) => {
      confirmations++;
      const before = observed.samples;
      observed.onBatch = () => {
        $('attack-progress').textContent = `${searchText}confirming (fresh PREDICT ${confirmations}, n = ${confirmN}): ${observed.samples - before} of ${confirmN} samples`;
      };
      try {
        return await confirmOracle(x, key, o);
      } finally {
        observed.onBatch = () => {};
      }
    };
    controller = new AbortController();
    const r = await new PointwiseAttack({ restarts: 1, initRepetitions: 1, maxQueries: attackQueries }).run(image, target, decide, {
      signal: controller.signal,
      index,
      seed,
      confirm,
      onProgress: (p) => {
        searchText = `search ${p.stage}: ${p.queries} queries, current ${p.magnitude ?? '—'} pixels; `;
        $('attack-progress').textContent = `${p.stage}: ${p.queries} queries, ${p.samples} samples, current ${p.magnitude ?? '—'} pixels (unconfirmed)`;
      },
    });
    const c = r.confirmation!;
    const confirmed = c.confirmed;
    if (r.adversarial) paint($<HTMLCanvasElement>('adversarial'), r.adversarial);
    $('magnitude').textContent = r.magnitude === null ? 'none confirmed' : `${r.magnitude} pixels`;
    const radius = $('radius').textContent ?? '';
    const answer = (p: number | null) => (p === null ? 'abstain' : String(p));
    const walk =
      r.magnitude === null || r.magnitude === 0 || c.searchMagnitude === null
        ? ''
        : c.searchMagnitude === r.magnitude
          ? `; the search's own ${c.searchMagnitude} pixels were confirmed as they were`
          : `; the search ended at ${c.searchMagnitude} pixels (unconfirmed: a fresh PREDICT there returned ${target}), walked back to ${r.magnitude}`;
    $('attack-verdict').textContent =
      r.magnitude === null
        ? `no confirmed adversarial example${c.searchMagnitude === null ? ' (the search found none)' : ` (the search reached ${c.searchMagnitude} pixels, but no fresh PREDICT with n = ${confirmN} confirmed an example on its path)`}`
        : r.magnitude === 0
          ? `already misclassified: a fresh PREDICT with n = ${confirmN} returned ${answer(confirmed!.prediction)}`
          : `changed ${r.magnitude} pixels to change the prediction to ${answer(confirmed!.prediction)}${/\d/.test(radius) ? `; certified radius: ${radius}` : ''}`;
    $('attack-confirmation').textContent = confirmed
      ? `confirmed by a fresh PREDICT with n = ${confirmed.n} samples (confirmation ${confirmed.attempt}, its own random stream): ${answer(confirmed.prediction)}, top two votes ${confirmed.nA ?? '—'} and ${confirmed.nB ?? '—'}, p-value ${confirmed.pValue === undefined ? '—' : confirmed.pValue.toPrecision(3)}${walk}; ${c.confirmations} confirmation${c.confirmations === 1 ? '' : 's'} asked.`
      : `${c.confirmations} confirmation${c.confirmations === 1 ? '' : 's'} asked (n = ${confirmN}), none agreed.`;
    $('attack-progress').textContent = `done: ${r.queries} search queries, ${c.confirmations} confirmations, ${r.samples} samples`;
    document.body.dataset.attacked = JSON.stringify({
      magnitude: r.magnitude,
      prediction: r.prediction,
      queries: r.queries,
      target,
      confirmN,
      confirmed,
      searchMagnitude: c.searchMagnitude,
      confirmations: c.confirmations,
      adversarial: r.adversarial ? Array.from(r.adversarial.data) : null,
    });
  } catch (error) {
    if (error instanceof AbortError) {
      $('attack-progress').textContent = 'cancelled';
      document.body.dataset.attacked = 'cancelled';
    } else status(`attack failed: ${(error as Error).message}`, true);
  } finally {
    setBusy(false);
  }
}

function setupDrawing(): void {
  const canvas = $<HTMLCanvasElement>('draw');
  const ctx = canvas.getContext('2d')!;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  let drawing = false;
  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    drawing = true;
    last = at(e);
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing || !last) return;
    const p = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 20;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    setImage(drawnDigit(canvas), 0, null);
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointerleave', end);
  $('clear').addEventListener('click', () => {
    clear();
    setImage(drawnDigit(canvas), 0, null);
  });
}

/** MNIST-style: the drawing's bounding box scaled into a 20 × 20 box, centred in 28 × 28, grey levels kept. */
function drawnDigit(canvas: HTMLCanvasElement): Image {
  const src = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  let x0 = canvas.width, y0 = canvas.height, x1 = -1, y1 = -1;
  for (let y = 0; y < src.height; y++) for (let x = 0; x < src.width; x++) if (src.data[4 * (y * src.width + x)]! > 16) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const out = document.createElement('canvas');
  out.width = out.height = 28;
  const o = out.getContext('2d')!;
  o.fillStyle = '#000';
  o.fillRect(0, 0, 28, 28);
  if (x1 >= 0) {
    const w = x1 - x0 + 1, h = y1 - y0 + 1, s = 20 / Math.max(w, h);
    o.imageSmoothingEnabled = true;
    o.imageSmoothingQuality = 'high';
    o.drawImage(canvas, x0, y0, w, h, 14 - (w * s) / 2, 14 - (h * s) / 2, w * s, h * s);
  }
  return imageFromImageData(o.getImageData(0, 0, 28, 28), 1);
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const r = await fetch(new URL(path, location.href));
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function loadTestImage(): Promise<void> {
  const index = Number($<HTMLInputElement>('index').value);
  if (!mnist) {
    status('loading the MNIST test split…');
    mnist = idxDatasetFromBytes('mnist/test', await fetchBytes('./data/t10k-images-idx3-ubyte'), await fetchBytes('./data/t10k-labels-idx1-ubyte'));
  }
  if (!Number.isInteger(index) || index < 0 || index >= mnist.size) {
    status(`MNIST test image: pick an index from 0 to ${mnist.size - 1}`, true);
    return;
  }
  const { image, label } = mnist.get(index);
  // show it on the drawing canvas too
  const big = $<HTMLCanvasElement>('draw');
  const tmp = document.createElement('canvas');
  tmp.width = tmp.height = 28;
  paint(tmp, image);
  const ctx = big.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, big.width, big.height);
  setImage(image, index, label);
  readyStatus();
}

let backendText = '';
function readyStatus(): void {
  status(`ready: ${backendText}`);
}

async function main(): Promise<void> {
  setupDrawing();
  const warnings: string[] = [];
  rt = await createContainer(config, { warn: (m) => warnings.push(m) });
  const web = rt.classifier as WebOnnxClassifier;
  observed = new ObservedClassifier(web);
  smoothed = new SmoothedClassifier(rt.perturbation, rt.encoder, observed, rt.certifier, { seed: rt.smoothed.seed, batchSize: rt.smoothed.batchSize });
  backendText = `onnxruntime-web on ${web.executionProvider}, ${web.numThreads} thread${web.numThreads === 1 ? '' : 's'}${crossOriginIsolated ? ' (cross-origin isolated)' : ''}${warnings.length ? ` — ${warnings.join('; ')}` : ''}`;
  $('config-note').textContent = `k = ${(config.perturbation as { retain?: number }).retain}, sequential certifier (α = ${(config.certifier as { alpha?: number }).alpha}, at most ${maxSamples} samples), seed ${rt.smoothed.seed}: the same as ablate certify --config examples/browser-demo/config.json`;
  renderVotes();
  $('load').addEventListener('click', () => void loadTestImage().catch((e) => status(String(e.message ?? e), true)));
  $('certify').addEventListener('click', () => void certify());
  $('cancel').addEventListener('click', () => controller?.abort());
  $('attack').addEventListener('click', () => void attack());
  $('attack-cancel').addEventListener('click', () => controller?.abort());
  await loadTestImage();
  setBusy(false);
  document.body.dataset.ready = 'true';
  document.body.dataset.threads = String(web.numThreads);
}

// (only in the page: a worker that loads this module must not touch the DOM)
if (typeof document !== 'undefined') main().catch((error) => status(`cannot start: ${(error as Error).message}`, true));
