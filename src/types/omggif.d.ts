// The part of omggif (jimp's GIF decoder) that src/image/decode-node.ts uses; omggif ships no types.
declare module 'omggif' {
  export class GifReader {
    constructor(buf: Uint8Array);
    width: number;
    height: number;
    numFrames(): number;
    frameInfo(frame: number): { x: number; y: number; width: number; height: number; data_offset: number; data_length: number };
  }
}
