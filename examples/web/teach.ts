// The demo's teach panel (issue 12): name a few classes, give each a few photos (files or webcam
// frames), train a small head on MobileNet's features, then see predictions for a new photo or,
// live, for the webcam; the head downloads as a .tflite and loads back. main.ts imports this
// module only when the panel is first opened, so a page that never teaches does not fetch it.
// The features (embeddings) are computed in the page's MobileNetWorker; the head, a softmax
// regression over a few dozen vectors, trains here (mobilenet-wasm/transfer yields between
// epochs, so the page keeps answering). The panel's state is mirrored in <details
// data-state> (loading, idle, busy, trained, loaded, predicted, live, error) for the browser
// tests, and #teach-top's data-predictions counts the predictions shown.
import type { ImageSource } from 'mobilenet-wasm/core';
import { createClassifier, loadClassifierHead, type Classifier, type Embedder, type Prediction } from 'mobilenet-wasm/transfer';
import type { MobileNetWorker } from 'mobilenet-wasm/worker';
import { closeCamera, decodePhoto, eachVideoFrame, imageFiles, openCamera } from './media.js';
import { $, errorText, renderScores } from './ui.js';

/** what the page gives the panel */
export interface TeachHost {
  /** the page's model, once loaded (undefined when loading failed) */
  net(): Promise<MobileNetWorker | undefined>;
  /** stops the page's own webcam loop, so one camera loop runs at a time */
  stopPageWebcam(): void;
}

/** what the page tells the panel */
export interface TeachPanel {
  /** another model has another feature space: the examples and the head are dropped */
  modelChanged(): void;
  stopCamera(): void;
}

type HeadKind = 'softmax' | 'knn';

interface Example {
  label: string;
  embedding: Float32Array;
}

const TOP_K = 3;
/** kNN's k: at most this, and at most the smallest class's count, so a class of two can win outright */
const MAX_NEIGHBOURS = 5;
/** thumbnails of the examples, longest side in CSS pixels */
const THUMB_SIZE = 48;
const HEAD_FILE = 'mobilenet-head.tflite';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

function thumbnailOf(image: ImageBitmap): string {
  const scale = THUMB_SIZE * devicePixelRatio / Math.max(image.width, image.height, 1);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(image.width * scale));
  canvas.height = Math.max(1, Math.round(image.height * scale));
  canvas.getContext('2d')!.drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.8);
}

function saveFile(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // the download has started by the next task; the URL is then no longer needed
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function mountTeach(host: TeachHost): TeachPanel {
  const card = $<HTMLDetailsElement>('teach');
  const nameForm = $<HTMLFormElement>('teach-add');
  const nameInput = $<HTMLInputElement>('teach-name');
  const addButton = $<HTMLButtonElement>('teach-add-class');
  const classList = $<HTMLUListElement>('teach-classes');
  const headSelect = $<HTMLSelectElement>('teach-head');
  const trainButton = $<HTMLButtonElement>('teach-train');
  const progress = $<HTMLProgressElement>('teach-progress');
  const photoInput = $<HTMLInputElement>('teach-photo');
  const webcamButton = $<HTMLButtonElement>('teach-webcam');
  const preview = $<HTMLImageElement>('teach-preview');
  const video = $<HTMLVideoElement>('teach-video');
  const topList = $<HTMLOListElement>('teach-top');
  const downloadButton = $<HTMLButtonElement>('teach-download');
  const loadInput = $<HTMLInputElement>('teach-load');
  const statusLine = $<HTMLParagraphElement>('teach-status');

  /** class names in the order added, including those without photos yet */
  const classes: string[] = [];
  const examples: Example[] = [];
  /** what predictions use: trained here, nearest neighbours, or loaded from a file */
  let head: Classifier | undefined;
  let training: AbortController | undefined;
  let stream: MediaStream | undefined;
  let predictions = 0;
  /** bumped by a model change, so features of the old model arriving late are dropped */
  let modelGeneration = 0;

  // the embeddings come from whatever model the page has loaded at the time
  const embedder: Embedder = {
    async embed(image: ImageSource) {
      const net = await host.net();
      if (!net) throw new Error('No model is loaded: pick one above.');
      return net.embed(image);
    },
  };

  function setState(state: string, message: string): void {
    card.dataset.state = state;
    statusLine.textContent = message;
  }
  const showError = (e: unknown) => setState('error', errorText(e));

  const countFor = (label: string) => examples.reduce((n, e) => n + (e.label === label ? 1 : 0), 0);
  const taughtClasses = () => classes.filter((c) => countFor(c) > 0);
  const rowOf = (label: string) => Array.from(classList.children).find((li) => (li as HTMLElement).dataset.label === label) as HTMLLIElement | undefined;

  /** buttons and counts, from the state above */
  function refresh(): void {
    const knn = headSelect.value === 'knn';
    for (const label of classes) {
      const row = rowOf(label)!;
      row.querySelector('.count')!.textContent = plural(countFor(label), 'photo');
      (row.querySelector('.capture') as HTMLButtonElement).hidden = !stream;
    }
    trainButton.hidden = knn;
    trainButton.disabled = taughtClasses().length < 2 || !!training;
    downloadButton.disabled = !head;
    webcamButton.textContent = stream ? 'Stop the webcam' : 'Use the webcam';
    webcamButton.setAttribute('aria-pressed', String(!!stream));
  }

  function showPredictions(top: Prediction[]): void {
    renderScores(topList, top);
    topList.dataset.predictions = String(++predictions);
  }

  /** the classifier over the current examples, untrained */
  function classifierOfExamples(kind: HeadKind): Classifier {
    const smallest = Math.min(...taughtClasses().map(countFor));
    const classifier = createClassifier(embedder, { head: kind, k: Math.max(1, Math.min(MAX_NEIGHBOURS, smallest)) });
    for (const { label, embedding } of examples) classifier.addEmbedding(embedding, label);
    return classifier;
  }

  const needMore = () => `Give at least two classes a photo each${headSelect.value === 'knn' ? '' : ', then train'}.`;

  /** After examples come or go: a trained head is out of date; nearest neighbours follow at once. */
  function examplesChanged(message: string): void {
    training?.abort();
    head = undefined;
    const ready = taughtClasses().length >= 2;
    if (headSelect.value === 'knn' && ready) {
      head = classifierOfExamples('knn');
      setState('trained', `${message} Ready: a prediction looks up the nearest of the ${plural(examples.length, 'photo')}; try a photo or the webcam.`);
    } else setState('idle', `${message} ${ready ? 'Train to use them.' : needMore()}`);
    refresh();
  }

  /** Embeds one image (in the worker) as an example of `label`; false when the class or the model went meanwhile. */
  async function addExample(label: string, image: ImageBitmap, generation: number): Promise<boolean> {
    const embedding = await embedder.embed(image);
    if (generation !== modelGeneration || !classes.includes(label)) return false;
    examples.push({ label, embedding });
    const thumb = document.createElement('img');
    thumb.src = thumbnailOf(image);
    thumb.alt = '';
    rowOf(label)!.querySelector('.thumbs')!.append(thumb);
    return true;
  }

  async function addPhotos(label: string, files: File[]): Promise<void> {
    if (!files.length) {
      setState('error', 'None of the chosen files is an image.');
      return;
    }
    const generation = modelGeneration;
    let added = 0;
    try {
      for (const file of files) {
        setState('busy', `Adding photo ${added + 1} of ${files.length} to "${label}"…`);
        const bitmap = await decodePhoto(file);
        try {
          if (!(await addExample(label, bitmap, generation))) return;
        } finally {
          bitmap.close();
        }
        added++;
        refresh();
      }
      examplesChanged(`Added ${plural(added, 'photo')} to "${label}".`);
    } catch (e) {
      if (added) examplesChanged(`Added ${plural(added, 'photo')} to "${label}".`);
      showError(e);
    }
  }

  async function captureFrame(label: string): Promise<void> {
    if (!stream || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return;
    try {
      const bitmap = await createImageBitmap(video);
      try {
        if (await addExample(label, bitmap, modelGeneration)) examplesChanged(`Captured a frame for "${label}".`);
      } finally {
        bitmap.close();
      }
    } catch (e) {
      showError(e);
    }
  }

  function addClass(): void {
    const label = nameInput.value.trim();
    if (!label) return setState('error', 'Give the class a name first.');
    if (classes.includes(label)) return setState('error', `There is already a class named "${label}".`);
    classes.push(label);
    const row = document.createElement('li');
    row.dataset.label = label;
    const name = document.createElement('strong');
    name.className = 'name';
    name.textContent = label;
    const count = document.createElement('span');
    count.className = 'count';
    const thumbs = document.createElement('div');
    thumbs.className = 'thumbs';
    const files = document.createElement('input');
    files.type = 'file';
    files.accept = 'image/*';
    files.multiple = true;
    files.className = 'visually-hidden';
    files.setAttribute('aria-label', `photos of ${label}`);
    files.addEventListener('change', () => {
      const chosen = imageFiles(files.files);
      files.value = '';
      void addPhotos(label, chosen);
    });
    const addPhotosButton = document.createElement('label');
    addPhotosButton.className = 'button small';
    addPhotosButton.append('Add photos', files);
    const capture = document.createElement('button');
    capture.type = 'button';
    capture.className = 'capture small';
    capture.textContent = 'Capture';
    capture.addEventListener('click', () => void captureFrame(label));
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'remove small secondary';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `remove the class ${label}`);
    remove.addEventListener('click', () => {
      classes.splice(classes.indexOf(label), 1);
      for (let i = examples.length - 1; i >= 0; i--) if (examples[i].label === label) examples.splice(i, 1);
      row.remove();
      examplesChanged(`Removed "${label}".`);
    });
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(addPhotosButton, capture, remove);
    // photos dropped on the class join it (the page's own drop handler then leaves them alone)
    row.addEventListener('drop', (e) => {
      e.preventDefault();
      void addPhotos(label, imageFiles(e.dataTransfer?.files));
    });
    row.append(name, count, actions, thumbs);
    classList.append(row);
    nameInput.value = '';
    setState('idle', `Now add a few photos of "${label}"${stream ? ' or capture webcam frames' : ''}.`);
    refresh();
  }

  async function train(): Promise<void> {
    training?.abort();
    const controller = new AbortController();
    training = controller;
    const classifier = classifierOfExamples('softmax');
    progress.value = 0;
    progress.hidden = false;
    setState('busy', 'Training…');
    refresh();
    try {
      const report = await classifier.train({
        signal: controller.signal,
        onProgress: ({ epoch, epochs, loss }) => {
          progress.value = epoch / epochs;
          statusLine.textContent = `Training: epoch ${epoch} of ${epochs}, loss ${loss.toFixed(3)}…`;
        },
      });
      if (controller.signal.aborted) return;
      head = classifier;
      setState(
        'trained',
        `Trained on ${plural(report.examples, 'photo')} of ${classifier.labels.length} classes in ${Math.round(report.ms)} ms (${percent(report.accuracy)} of them right). Try a photo or the webcam.`,
      );
    } catch (e) {
      if (!controller.signal.aborted) showError(e);
    } finally {
      progress.hidden = true;
      if (training === controller) training = undefined;
      refresh();
    }
  }

  const noHead = () => `Nothing to predict with yet. ${taughtClasses().length >= 2 ? (headSelect.value === 'knn' ? 'Add photos.' : 'Train first.') : needMore()}`;

  async function predictPhoto(file: File): Promise<void> {
    stopCamera();
    const current = head;
    if (!current) return setState('error', noHead());
    setState('busy', 'Predicting…');
    try {
      const bitmap = await decodePhoto(file);
      try {
        const top = await current.predict(bitmap, { topK: TOP_K });
        if (preview.src) URL.revokeObjectURL(preview.src);
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
        showPredictions(top);
        setState('predicted', `${top[0].label}, ${percent(top[0].score)}.`);
      } finally {
        bitmap.close();
      }
    } catch (e) {
      showError(e);
    }
  }

  async function startCamera(): Promise<void> {
    host.stopPageWebcam();
    setState('busy', 'Asking for the camera…');
    try {
      stream = await openCamera(video);
    } catch (e) {
      showError(e);
      return;
    }
    const own = stream;
    preview.hidden = true;
    video.hidden = false;
    refresh();
    setState('live', head ? 'Predicting the webcam…' : 'Webcam on: capture frames into the classes with their Capture buttons.');
    try {
      await eachVideoFrame(video, () => stream === own, async () => {
        const current = head;
        if (!current) return;
        const top = await current.predict(video, { topK: TOP_K });
        // a head trained or loaded meanwhile predicts the next frame
        if (stream === own && head === current) showPredictions(top);
      });
    } catch (e) {
      showError(e);
      if (stream === own) stopCamera();
    }
  }

  function stopCamera(): void {
    if (!stream) return;
    closeCamera(stream, video);
    stream = undefined;
    video.hidden = true;
    refresh();
  }

  async function loadHead(file: File): Promise<void> {
    try {
      head = loadClassifierHead(embedder, new Uint8Array(await file.arrayBuffer()));
      setState('loaded', `Loaded ${file.name}: ${head.labels.join(', ')}. Try a photo or the webcam.`);
    } catch (e) {
      showError(e);
    }
    refresh();
  }

  function download(): void {
    if (!head) return;
    try {
      const bytes = head.toTflite();
      saveFile(bytes, HEAD_FILE);
      // a file holds one linear layer: neighbours are saved as each class's mean feature vector
      const knnNote = head.kind === 'knn' ? ' The neighbours are saved as each class\'s mean, whose predictions can differ from their vote.' : '';
      statusLine.textContent = `Saved ${HEAD_FILE} (${(bytes.length / 1024).toFixed(1)} KB; classes ${head.labels.join(', ')}): "Load a head" reads it back, and TensorFlow Lite runs it on this model's features.${knnNote}`;
    } catch (e) {
      showError(e);
    }
  }

  nameForm.addEventListener('submit', (e) => {
    e.preventDefault();
    addClass();
  });
  headSelect.addEventListener('change', () => examplesChanged(headSelect.value === 'knn' ? 'Nearest-neighbour head, no training.' : 'Softmax head, trained on the photos.'));
  trainButton.addEventListener('click', () => void train());
  photoInput.addEventListener('change', () => {
    const [file] = imageFiles(photoInput.files);
    photoInput.value = '';
    if (file) void predictPhoto(file);
  });
  webcamButton.addEventListener('click', () => {
    if (!stream) return void startCamera();
    stopCamera();
    setState(head ? 'trained' : 'idle', 'Webcam stopped.');
  });
  downloadButton.addEventListener('click', download);
  loadInput.addEventListener('change', () => {
    const [file] = Array.from(loadInput.files ?? []);
    loadInput.value = '';
    if (file) void loadHead(file);
  });

  for (const control of [nameInput, addButton, headSelect, photoInput, loadInput, webcamButton]) control.disabled = false;
  setState('idle', 'Name a class and add a few photos of it; then another class.');
  refresh();

  return {
    modelChanged() {
      modelGeneration++;
      training?.abort();
      const had = examples.length > 0 || head !== undefined;
      examples.length = 0;
      for (const thumbs of Array.from(classList.querySelectorAll('.thumbs'))) thumbs.replaceChildren();
      head = undefined;
      if (had) setState('idle', 'The model changed, and with it the features the head learns from: add the photos again.');
      refresh();
    },
    stopCamera,
  };
}
