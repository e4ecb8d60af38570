// The demo page (npm run demo): pick, drop or paste a photo, or use the webcam, and see the
// top-5 classes, the latency and which kernel build ran. The model runs in a Web Worker
// (mobilenet-wasm/worker), so the page stays responsive while it computes. Models come from the
// catalog that scripts/demo.mjs serves (models.json, local files), and any other registry model
// is downloaded by name, verified and kept in the Cache API. The page state is mirrored in
// <body data-state> (starting, loading, ready, busy, done, live, error) for the browser tests.
// The "teach" panel (teach.ts, new classes from a few photos) is a dynamic import, fetched only
// when the panel is opened.
import { engineSupports, fetchModelFile, listModels, type Classification, type KernelChoice } from 'mobilenet-wasm/core';
import { MobileNetWorker } from 'mobilenet-wasm/worker';
import { wasmByFile } from './builds.js';
import { closeCamera, decodePhoto, eachVideoFrame, hasCamera, openCamera } from './media.js';
import type { TeachPanel } from './teach.js';
import { $, errorText, renderScores } from './ui.js';

interface CatalogModel {
  name: string;
  /** e.g. "1.0/224 uint8" */
  title: string;
  /** a local file; registry models without one are fetched by name */
  url?: string;
}
interface Catalog {
  models: CatalogModel[];
  samples: { name: string; url: string }[];
}

const wasm = wasmByFile;
// esbuild does not bundle `new Worker(new URL(...))`: scripts/demo.mjs bundles the package's
// worker script as an entry of its own, next to this file.
const worker = new URL('./mobilenet-worker.js', import.meta.url);
const TOP_K = 5;
/** runs after the first one on a photo, for the steady-state latency */
const STEADY_RUNS = 5;

const modelSelect = $<HTMLSelectElement>('model');
const kernelSelect = $<HTMLSelectElement>('kernels');
const fileInput = $<HTMLInputElement>('file');
const dropZone = $<HTMLLabelElement>('drop');
const webcamButton = $<HTMLButtonElement>('webcam');
const photo = $<HTMLImageElement>('photo');
const video = $<HTMLVideoElement>('video');
const top5 = $<HTMLOListElement>('top5');
const statusLine = $<HTMLParagraphElement>('status');
const teachCard = $<HTMLDetailsElement>('teach');

/** something the worker can classify: the decoded photo, or the video element (its current frame) */
type Frame = ImageBitmap | HTMLVideoElement;

let net: MobileNetWorker | undefined;
let loading: Promise<MobileNetWorker | undefined> = Promise.resolve(undefined);
/** bumped by every model change, so a slower earlier load is dropped */
let modelLoads = 0;
/** bumped by every model change and every new image, so stale async work drops its result */
let generation = 0;
let bitmap: ImageBitmap | undefined;
let stream: MediaStream | undefined;
/** latencies since the model loaded: [0] is the cold first run */
let timings: number[] = [];
/** the teach panel once its code has loaded (on first opening) */
let teach: Promise<TeachPanel | undefined> | undefined;

function setState(state: string, message: string): void {
  document.body.dataset.state = state;
  statusLine.textContent = message;
}

function showError(e: unknown): void {
  setState('error', errorText(e));
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

const megabytes = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

async function modelBytes(model: CatalogModel, isCurrent: () => boolean): Promise<Uint8Array> {
  if (model.url) return new Uint8Array(await (await fetchOk(model.url)).arrayBuffer());
  const file = await fetchModelFile({
    model: model.name,
    onProgress: (received, total) => {
      if (isCurrent()) setState('loading', `Downloading ${model.title}: ${megabytes(received)}${total ? ` of ${megabytes(total)}` : ''}…`);
    },
  });
  return file.bytes;
}

async function loadModel(model: CatalogModel, kernels: KernelChoice, isCurrent: () => boolean): Promise<MobileNetWorker> {
  return MobileNetWorker.load(await modelBytes(model, isCurrent), { wasm, kernels, worker });
}

async function switchModel(models: CatalogModel[]): Promise<void> {
  const model = models.find((m) => m.name === modelSelect.value);
  if (!model) return;
  const load = ++modelLoads;
  ++generation;
  const kernels = kernelSelect.value as KernelChoice;
  const url = new URL(location.href);
  url.searchParams.set('model', model.name);
  url.searchParams.set('kernels', kernels);
  history.replaceState(null, '', url);
  net?.dispose();
  net = undefined;
  void teach?.then((panel) => panel?.modelChanged());
  timings = [];
  renderTimings();
  $('kernels-ran').textContent = '–';
  setState('loading', `Loading ${model.title}…`);
  const isCurrent = () => load === modelLoads;
  loading = loadModel(model, kernels, isCurrent).then(
    (loaded) => {
      if (!isCurrent()) {
        loaded.dispose();
        return undefined;
      }
      net = loaded;
      $('kernels-ran').textContent = loaded.info.kernels;
      $('thread').textContent = 'Web Worker';
      return loaded;
    },
    (e) => {
      if (isCurrent()) showError(e);
      return undefined;
    },
  );
  const loaded = await loading;
  if (!loaded) return;
  if (bitmap && !stream) await classifyPhoto();
  else if (!stream) setState('ready', `${model.title} ready (${loaded.info.kernels} kernels). Choose a photo or use the webcam.`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function renderTimings(): void {
  const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
  $('latency-first').textContent = timings.length ? ms(timings[0]) : '–';
  const steady = timings.slice(1).slice(-10);
  $('latency-steady').textContent = steady.length ? `${ms(median(steady))} (median of ${steady.length})` : '–';
}

function renderTop(top: Classification[]): void {
  renderScores(top5, top.map(({ label, index, score }) => ({ label: label ?? `class ${index}`, score })));
}

/** One classification, timed; undefined when the model or the image changed meanwhile. */
async function classifyOnce(image: Frame, gen: number): Promise<Classification[] | undefined> {
  const model = await loading;
  if (!model || gen !== generation) return undefined;
  const t0 = performance.now();
  const top = await model.classify(image, { topK: TOP_K });
  const ms = performance.now() - t0;
  if (gen !== generation) return undefined;
  timings.push(ms);
  renderTimings();
  return top;
}

async function classifyPhoto(): Promise<void> {
  const image = bitmap;
  if (!image) return;
  const gen = generation;
  setState('busy', 'Classifying…');
  try {
    const top = await classifyOnce(image, gen);
    if (!top) return;
    renderTop(top);
    for (let i = 0; i < STEADY_RUNS; i++) if (!(await classifyOnce(image, gen))) return;
    setState('done', `${image.width}×${image.height} photo, ${net?.info.kernels} kernels.`);
  } catch (e) {
    showError(e);
  }
}

async function usePhoto(blob: Blob): Promise<void> {
  stopWebcam();
  ++generation;
  bitmap?.close();
  bitmap = undefined;
  try {
    bitmap = await decodePhoto(blob);
  } catch (e) {
    showError(e);
    return;
  }
  if (photo.src) URL.revokeObjectURL(photo.src);
  photo.src = URL.createObjectURL(blob);
  photo.hidden = false;
  video.hidden = true;
  await classifyPhoto();
}

async function startWebcam(): Promise<void> {
  const gen = ++generation;
  // one camera loop at a time: the teach panel's stops
  void teach?.then((panel) => panel?.stopCamera());
  setState('busy', 'Asking for the camera…');
  try {
    stream = await openCamera(video);
  } catch (e) {
    showError(e);
    return;
  }
  photo.hidden = true;
  video.hidden = false;
  webcamButton.textContent = 'Stop the webcam';
  webcamButton.setAttribute('aria-pressed', 'true');
  setState('live', 'Classifying the webcam…');
  try {
    await eachVideoFrame(video, () => !!stream && gen === generation, async () => {
      const top = await classifyOnce(video, gen);
      if (top) renderTop(top);
    });
  } catch (e) {
    showError(e);
  }
}

function stopWebcam(): void {
  if (!stream) return;
  closeCamera(stream, video);
  stream = undefined;
  webcamButton.textContent = 'Use the webcam';
  webcamButton.setAttribute('aria-pressed', 'false');
}

/** The webcam buttons show only when the device lists a camera (headless browsers list none). */
function showCameraButtons(): void {
  const update = () => hasCamera().then((has) => {
    webcamButton.hidden = !has;
    $('teach-webcam').hidden = !has;
  });
  void update();
  navigator.mediaDevices?.addEventListener?.('devicechange', () => void update());
}

/** Loads the teach panel's code the first time the panel opens. */
function wireTeach(): void {
  teachCard.addEventListener('toggle', () => {
    if (!teachCard.open || teach) return;
    teachCard.dataset.state = 'loading';
    teach = import('./teach.js').then(
      ({ mountTeach }) =>
        mountTeach({
          net: () => loading,
          stopPageWebcam: () => {
            if (!stream) return;
            stopWebcam();
            ++generation;
            setState('ready', 'Webcam stopped.');
          },
        }),
      (e) => {
        teach = undefined;
        teachCard.dataset.state = 'error';
        $('teach-status').textContent = `The teach panel could not load: ${errorText(e)}`;
        return undefined;
      },
    );
  });
}

function firstImage(files: FileList | null | undefined): File | undefined {
  return Array.from(files ?? []).find((f) => f.type.startsWith('image/')) ?? files?.[0];
}

function wireInputs(): void {
  fileInput.addEventListener('change', () => {
    const file = firstImage(fileInput.files);
    if (file) void usePhoto(file);
  });
  // the whole page accepts a drop, so a near miss does not open the photo in the tab
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    dropZone.classList.add('over');
  });
  document.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) dropZone.classList.remove('over');
  });
  document.addEventListener('drop', (e) => {
    dropZone.classList.remove('over');
    // taken already: photos dropped on a class of the teach panel
    if (e.defaultPrevented) return;
    e.preventDefault();
    const file = firstImage(e.dataTransfer?.files);
    if (file) void usePhoto(file);
  });
  document.addEventListener('paste', (e) => {
    const file = firstImage(e.clipboardData?.files);
    if (file) void usePhoto(file);
  });
  webcamButton.addEventListener('click', () => {
    if (stream) {
      stopWebcam();
      ++generation;
      setState('ready', 'Webcam stopped.');
    } else void startWebcam();
  });
}

/** the local models, then every other registry model (downloaded on first use, then cached) */
function allModels(catalog: Catalog): CatalogModel[] {
  const local = new Set(catalog.models.map((m) => m.name));
  const registry = listModels()
    .filter((m) => !local.has(m.name))
    .map((m) => ({ name: m.name, title: `${m.alpha === 1 ? '1.0' : m.alpha}/${m.resolution} ${m.precision}` }));
  return [...catalog.models, ...registry];
}

function optionGroup(label: string, models: CatalogModel[]): HTMLOptGroupElement {
  const group = document.createElement('optgroup');
  group.label = label;
  group.append(...models.map((m) => new Option(m.title, m.name)));
  return group;
}

function fillPickers(catalog: Catalog, models: CatalogModel[]): void {
  const params = new URLSearchParams(location.search);
  const local = models.filter((m) => m.url);
  const remote = models.filter((m) => !m.url);
  modelSelect.replaceChildren(
    ...(local.length ? [optionGroup('On this server', local)] : []),
    ...(remote.length ? [optionGroup('Download (cached after the first time)', remote)] : []),
  );
  const wanted = params.get('model') ?? 'mobilenet_v1_1.0_224_quant';
  if (models.some((m) => m.name === wanted)) modelSelect.value = wanted;
  for (const option of Array.from(kernelSelect.options)) {
    if (option.value === 'relaxed' || option.value === 'simd') option.disabled = !engineSupports(option.value);
  }
  const kernels = params.get('kernels');
  if (kernels && Array.from(kernelSelect.options).some((o) => o.value === kernels && !o.disabled)) kernelSelect.value = kernels;
  $('samples').replaceChildren(
    ...(catalog.samples.length ? [document.createTextNode('Try:')] : []),
    ...catalog.samples.map((s) => {
      const a = document.createElement('a');
      a.href = s.url;
      a.textContent = s.name;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        fetchOk(s.url).then((r) => r.blob()).then(usePhoto, showError);
      });
      return a;
    }),
  );
}

async function main(): Promise<void> {
  const catalog = (await (await fetchOk('./models.json')).json()) as Catalog;
  const models = allModels(catalog);
  fillPickers(catalog, models);
  wireInputs();
  showCameraButtons();
  wireTeach();
  modelSelect.addEventListener('change', () => void switchModel(models));
  kernelSelect.addEventListener('change', () => void switchModel(models));
  await switchModel(models);
}

main().catch(showError);
