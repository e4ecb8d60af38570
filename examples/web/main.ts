// The demo page (npm run demo): pick, drop or paste a photo, or use the webcam, and see the
// top-5 classes, the latency and which kernel build ran. Models come from the catalog that
// scripts/demo.mjs serves (models.json). The page state is mirrored in <body data-state>
// (starting, loading, busy, done, live, error) so the browser tests can wait on it.
import { MobileNet, MobileNetError, engineSupports, type Classification, type Flavour, type KernelChoice, type RawImage } from 'mobilenet-wasm/core';
import relaxedUrl from 'mobilenet-wasm/wasm/mobilenet-relaxed.wasm';
import simdUrl from 'mobilenet-wasm/wasm/mobilenet-simd.wasm';
import scalarUrl from 'mobilenet-wasm/wasm/mobilenet-scalar.wasm';

interface CatalogModel {
  name: string;
  /** e.g. "1.0/224 uint8" */
  title: string;
  url: string;
}
interface Catalog {
  models: CatalogModel[];
  samples: { name: string; url: string }[];
}

// The bundler turns each .wasm import into a URL; only the build 'auto' (or the picker) chooses
// is fetched and compiled.
const wasm = { relaxed: relaxedUrl, simd: simdUrl, scalar: scalarUrl };
const TOP_K = 5;
/** runs after the first one on a photo, for the steady-state latency */
const STEADY_RUNS = 5;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const modelSelect = $<HTMLSelectElement>('model');
const kernelSelect = $<HTMLSelectElement>('kernels');
const fileInput = $<HTMLInputElement>('file');
const dropZone = $<HTMLLabelElement>('drop');
const webcamButton = $<HTMLButtonElement>('webcam');
const photo = $<HTMLImageElement>('photo');
const video = $<HTMLVideoElement>('video');
const top5 = $<HTMLOListElement>('top5');
const statusLine = $<HTMLParagraphElement>('status');

interface Classifier {
  kernels: Flavour;
  thread: string;
  classify(image: RawImage): Promise<Classification[]>;
  dispose(): void;
}

let classifier: Classifier | undefined;
let loading: Promise<Classifier | undefined> = Promise.resolve(undefined);
/** bumped by every model change, so a slower earlier load is dropped */
let modelLoads = 0;
/** bumped by every model change and every new image, so stale async work drops its result */
let generation = 0;
let pixels: RawImage | undefined;
let stream: MediaStream | undefined;
/** latencies since the model loaded: [0] is the cold first run */
let timings: number[] = [];

function setState(state: string, message: string): void {
  document.body.dataset.state = state;
  statusLine.textContent = message;
}

function showError(e: unknown): void {
  const text = e instanceof MobileNetError ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
  setState('error', text);
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

async function loadClassifier(model: CatalogModel, kernels: KernelChoice): Promise<Classifier> {
  const bytes = new Uint8Array(await (await fetchOk(model.url)).arrayBuffer());
  const net = await MobileNet.load(bytes, { wasm, kernels });
  return {
    kernels: net.info.kernels,
    thread: 'main thread',
    classify: async (image) => net.classify(image, { topK: TOP_K }),
    dispose: () => net.dispose(),
  };
}

function selectedModel(catalog: Catalog): CatalogModel | undefined {
  return catalog.models.find((m) => m.name === modelSelect.value);
}

async function switchModel(catalog: Catalog): Promise<void> {
  const model = selectedModel(catalog);
  if (!model) return;
  const load = ++modelLoads;
  ++generation;
  const kernels = kernelSelect.value as KernelChoice;
  const url = new URL(location.href);
  url.searchParams.set('model', model.name);
  url.searchParams.set('kernels', kernels);
  history.replaceState(null, '', url);
  classifier?.dispose();
  classifier = undefined;
  timings = [];
  renderTimings();
  $('kernels-ran').textContent = '–';
  setState('loading', `Loading ${model.title}…`);
  loading = loadClassifier(model, kernels).then(
    (c) => {
      if (load !== modelLoads) {
        c.dispose();
        return undefined;
      }
      classifier = c;
      $('kernels-ran').textContent = c.kernels;
      $('thread').textContent = c.thread;
      return c;
    },
    (e) => {
      if (load === modelLoads) showError(e);
      return undefined;
    },
  );
  const c = await loading;
  if (!c) return;
  if (pixels && !stream) await classifyPhoto();
  else if (!stream) setState('ready', `${model.title} ready (${c.kernels} kernels). Choose a photo or use the webcam.`);
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
  top5.replaceChildren(
    ...top.map(({ label, index, score }) => {
      const li = document.createElement('li');
      li.style.setProperty('--score', `${(score * 100).toFixed(1)}%`);
      const name = document.createElement('span');
      name.className = 'label';
      name.textContent = label ?? `class ${index}`;
      const value = document.createElement('span');
      value.className = 'score';
      value.textContent = `${(score * 100).toFixed(1)}%`;
      li.append(name, value);
      return li;
    }),
  );
}

/** One classification, timed; undefined when the model or the image changed meanwhile. */
async function classifyOnce(image: RawImage, gen: number): Promise<Classification[] | undefined> {
  const c = await loading;
  if (!c || gen !== generation) return undefined;
  const t0 = performance.now();
  const top = await c.classify(image);
  const ms = performance.now() - t0;
  if (gen !== generation) return undefined;
  timings.push(ms);
  renderTimings();
  return top;
}

async function classifyPhoto(): Promise<void> {
  const image = pixels;
  if (!image) return;
  const gen = generation;
  setState('busy', 'Classifying…');
  try {
    const top = await classifyOnce(image, gen);
    if (!top) return;
    renderTop(top);
    for (let i = 0; i < STEADY_RUNS; i++) if (!(await classifyOnce(image, gen))) return;
    setState('done', `${image.width}×${image.height} photo, ${classifier?.kernels} kernels.`);
  } catch (e) {
    showError(e);
  }
}

const canvas = document.createElement('canvas');

/** The pixels of a decoded image or the current video frame, as a RawImage (RGBA). */
function readPixels(source: CanvasImageSource, width: number, height: number): RawImage {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(source, 0, 0);
  return ctx.getImageData(0, 0, width, height);
}

async function usePhoto(blob: Blob): Promise<void> {
  stopWebcam();
  ++generation;
  try {
    // colour as stored in the file, like TensorFlow's decoders (no ICC conversion)
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    pixels = readPixels(bitmap, bitmap.width, bitmap.height);
    bitmap.close();
  } catch {
    setState('error', `This file is not an image the browser can decode (${blob.type || 'unknown type'}).`);
    return;
  }
  if (photo.src) URL.revokeObjectURL(photo.src);
  photo.src = URL.createObjectURL(blob);
  photo.hidden = false;
  video.hidden = true;
  await classifyPhoto();
}

function cameraErrorText(e: unknown): string {
  switch ((e as DOMException)?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera permission was denied. Allow the camera for this page in the browser, or choose a photo instead.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Choose a photo instead.';
    case 'NotReadableError':
      return 'The camera is in use by another application.';
    default:
      return `The camera could not be started: ${String((e as Error)?.message ?? e)}`;
  }
}

async function startWebcam(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    setState('error', 'This browser gives this page no camera access (it needs https or localhost).');
    return;
  }
  const gen = ++generation;
  setState('busy', 'Asking for the camera…');
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment', width: { ideal: 640 } }, audio: false });
  } catch (e) {
    setState('error', cameraErrorText(e));
    return;
  }
  video.srcObject = stream;
  await video.play();
  photo.hidden = true;
  video.hidden = false;
  webcamButton.textContent = 'Stop the webcam';
  webcamButton.setAttribute('aria-pressed', 'true');
  setState('live', 'Classifying the webcam…');
  while (stream && gen === generation) {
    if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) {
      try {
        const top = await classifyOnce(readPixels(video, video.videoWidth, video.videoHeight), gen);
        if (top) renderTop(top);
      } catch (e) {
        showError(e);
        break;
      }
    }
    await new Promise(requestAnimationFrame);
  }
}

function stopWebcam(): void {
  if (!stream) return;
  for (const track of stream.getTracks()) track.stop();
  stream = undefined;
  video.srcObject = null;
  webcamButton.textContent = 'Use the webcam';
  webcamButton.setAttribute('aria-pressed', 'false');
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
    e.preventDefault();
    dropZone.classList.remove('over');
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

function fillPickers(catalog: Catalog): void {
  const params = new URLSearchParams(location.search);
  modelSelect.replaceChildren(...catalog.models.map((m) => new Option(m.title, m.name)));
  const wanted = params.get('model') ?? 'mobilenet_v1_1.0_224_quant';
  if (catalog.models.some((m) => m.name === wanted)) modelSelect.value = wanted;
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
  if (!catalog.models.length) {
    setState('error', 'No models: start the demo with ../shared/models present (npm run demo), or pass --models DIR.');
    return;
  }
  fillPickers(catalog);
  wireInputs();
  modelSelect.addEventListener('change', () => void switchModel(catalog));
  kernelSelect.addEventListener('change', () => void switchModel(catalog));
  await switchModel(catalog);
}

main().catch(showError);
