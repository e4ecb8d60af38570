/**
 * Image shapes shared by the portable preprocessing code and the decoders. No Node built-ins.
 */
import { invalidImage } from '../errors.js';
import { plainView, describeValue } from '../runtime/typed.js';

/**
 * Decoded pixels, ImageData-shaped: rows top to bottom, interleaved channels, 8 bits each.
 * channels: 1 = gray, 2 = gray + alpha, 3 = RGB, 4 = RGBA. When omitted it is
 * data.length / (width * height) if that is 1, 3 or 4 (so an ImageData or a canvas'
 * getImageData() result can be passed as is); 2 channels must be stated.
 *
 * Alpha is ignored (dropped, not composited), as TensorFlow's decode_png(channels=3) does:
 * the models were trained on the RGB values alone. Note that a browser canvas stores
 * premultiplied colour, so fully transparent pixels read back from one are black.
 */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: 1 | 2 | 3 | 4;
}

/** A RawImage after validation: channels known, data a plain Uint8Array view (no copy). */
export interface CheckedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** Largest RawImage accepted by preprocess(): 2^26 pixels (a 256 MiB RGBA buffer). */
export const MAX_RAW_PIXELS = 2 ** 26;

/** Default limit of the file decoders: 50 megapixels. */
export const DEFAULT_MAX_DECODE_PIXELS = 50_000_000;

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'gif';

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;

function byteView(data: unknown): Uint8Array | undefined {
  // Through the intrinsic typed-array getters rather than instanceof or the object's own
  // length: arrays from another realm (iframe, worker) pass, a Proxy is refused, and a
  // subclass's own length getter is ignored. Always a fresh plain Uint8Array view of the same bytes.
  const v = plainView(data, 'Uint8Array', 'Uint8ClampedArray');
  return v && new Uint8Array(v.buffer, v.byteOffset, v.length);
}

/**
 * Checks a RawImage (positive integer sizes, a byte array of exactly width*height*channels,
 * at most maxPixels pixels) and returns it normalised. Throws INVALID_IMAGE naming the problem.
 */
export function checkRawImage(image: RawImage, maxPixels: number = MAX_RAW_PIXELS): CheckedImage {
  if (image === null || typeof image !== 'object') throw invalidImage('image must be an object { data, width, height }');
  const { width, height } = image;
  if (!isPositiveInt(width) || !isPositiveInt(height)) {
    throw invalidImage(`image width and height must be positive integers, got ${describeValue(width)} x ${describeValue(height)}`);
  }
  if (width * height > maxPixels) {
    throw invalidImage(`image is ${width} x ${height} = ${width * height} pixels, more than the limit of ${maxPixels}`);
  }
  const data = byteView(image.data);
  if (!data) {
    throw invalidImage(`image data must be a Uint8Array or Uint8ClampedArray, got ${describeValue(image.data)}`);
  }
  const pixels = width * height;
  let channels = image.channels;
  if (channels === undefined) {
    const inferred = data.length / pixels;
    if (inferred !== 1 && inferred !== 3 && inferred !== 4) {
      throw invalidImage(
        `image data has ${data.length} bytes for ${width} x ${height} pixels; expected ${pixels} (gray), ${pixels * 3} (RGB) or ${pixels * 4} (RGBA), or pass channels`,
      );
    }
    channels = inferred;
  } else {
    if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
      throw invalidImage(`image channels must be 1, 2, 3 or 4, got ${describeValue(channels)}`);
    }
    if (data.length !== pixels * channels) {
      throw invalidImage(
        `image data has ${data.length} bytes but ${width} x ${height} x ${channels} channels needs ${pixels * channels}`,
      );
    }
  }
  return { data, width, height, channels };
}
