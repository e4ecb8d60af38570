/** Byte-level image fixtures shared by the image tests. */

export const bytes = (...parts: Array<number[] | string>) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
export const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
export const le32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
export const le16 = (n: number) => [n & 255, (n >>> 8) & 255];

// Headers claiming huge sizes, with no pixel data behind them.
export const FAKE = {
  png: (w: number, h: number) => bytes([0x89], 'PNG', [13, 10, 26, 10], be32(13), 'IHDR', be32(w), be32(h), [8, 2, 0, 0, 0], be32(0)),
  jpeg: (w: number, h: number) =>
    bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], 'JFIF', [0, 1, 1, 0, 0, 1, 0, 1, 0, 0], [0xff, 0xc0, 0, 17, 8, h >> 8, h & 255, w >> 8, w & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]),
  bmp: (w: number, h: number) => bytes('BM', le32(54), [0, 0, 0, 0], le32(54), le32(40), le32(w), le32(h), le16(1), le16(24), new Array(24).fill(0)),
  gif: (w: number, h: number, fw = 1, fh = 1) =>
    bytes('GIF89a', le16(w), le16(h), [0, 0, 0], [0x2c, 0, 0, 0, 0], le16(fw), le16(fh), [0, 2, 2, 0x4c, 0x01, 0, 0x3b]),
};

/** Inserts an APP1 EXIF segment carrying only the orientation tag right after SOI. */
export function withExifOrientation(jpeg: Uint8Array, orientation: number, bigEndian = true): Uint8Array {
  const u16 = (n: number) => (bigEndian ? [n >> 8, n & 255] : [n & 255, n >> 8]);
  const u32 = (n: number) => (bigEndian ? be32(n) : le32(n));
  const tiff = [...(bigEndian ? [0x4d, 0x4d] : [0x49, 0x49]), ...u16(42), ...u32(8), ...u16(1), ...u16(0x0112), ...u16(3), ...u32(1), ...u16(orientation), 0, 0, ...u32(0)];
  const payload = [...bytes('Exif', [0, 0]), ...tiff];
  const len = payload.length + 2;
  return bytes([...jpeg.subarray(0, 2)], [0xff, 0xe1, len >> 8, len & 255], payload, [...jpeg.subarray(2)]);
}

