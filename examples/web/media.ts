// Photos and the camera, for the demo page and its teach panel.

/**
 * Decodes a photo once, off the main thread, into a bitmap that is posted (copied) to the
 * worker for each run; the colour as stored in the file, like TensorFlow's decoders (no ICC
 * conversion). Rejects with a message a person can act on.
 */
export async function decodePhoto(blob: Blob): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`This file is not an image the browser can decode (${blob.type || 'unknown type'}).`);
  }
}

/** The image files of a file list (a drop may hold other files too). */
export function imageFiles(files: FileList | null | undefined): File[] {
  return Array.from(files ?? []).filter((f) => f.type.startsWith('image/'));
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

/** Starts the camera and plays it in `video`; rejects with a message a person can act on. */
export async function openCamera(video: HTMLVideoElement): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('This browser gives this page no camera access (it needs https or localhost).');
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment', width: { ideal: 640 } }, audio: false });
  } catch (e) {
    throw new Error(cameraErrorText(e));
  }
  video.srcObject = stream;
  await video.play();
  return stream;
}

export function closeCamera(stream: MediaStream, video: HTMLVideoElement): void {
  for (const track of stream.getTracks()) track.stop();
  video.srcObject = null;
}

/**
 * Whether the device lists a camera at all (headless browsers and most desktops list none).
 * Before permission is granted the list holds the kinds without labels, which is all this needs.
 */
export async function hasCamera(): Promise<boolean> {
  if (!navigator.mediaDevices?.enumerateDevices) return false;
  try {
    return (await navigator.mediaDevices.enumerateDevices()).some((d) => d.kind === 'videoinput');
  } catch {
    return false;
  }
}

/**
 * Runs `step` once per animation frame while `running()` holds, skipping frames before the
 * video has one to show; a step's error ends the loop (the promise rejects with it).
 */
export async function eachVideoFrame(video: HTMLVideoElement, running: () => boolean, step: () => Promise<void>): Promise<void> {
  while (running()) {
    if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) await step();
    await new Promise(requestAnimationFrame);
  }
}
