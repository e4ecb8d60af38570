/**
 * A bounded walk over the first frame's LZW code stream of a GIF, run before the decoder sees it.
 *
 * Why: the GIF decoder jimp uses (omggif) trusts the code stream. A code above the next free
 * table entry is kept as the "previous code", so the next table entry can point at a later
 * (stale) entry, the prefix chains form a cycle, and the decoder chases it forever (a 908-byte
 * bit-flipped GIF did). In a valid stream every code is at most the next free entry (equal
 * only right after another code: the KwKwK case), and the first code after a clear is a
 * literal; then every entry's prefix is an earlier entry and no chain can cycle. This walk
 * reads the codes exactly as omggif does (same bit order, sub-block handling, code-size
 * growth and 4096-entry cap) and refuses the stream at the first code that breaks the rule.
 * It costs one pass over the frame's data, bounded by the file size and the frame's pixels.
 * The caller gives the frame's data offset as the decoder itself finds it (omggif's block
 * parser has quirks of its own, so a second parser could disagree on where the data is).
 * No Node built-ins: portable.
 */
import { invalidImage } from '../errors.js';

export interface GifFrameData {
  width: number;
  height: number;
  /** offset of the LZW minimum code size byte */
  dataOffset: number;
}

/**
 * Throws INVALID_IMAGE when the first frame's LZW stream has a code the decoder could loop on,
 * or an out-of-range minimum code size. A stream that merely ends early (a truncated file) or
 * holds more data than the frame needs passes: the decoder stops on its own in both cases.
 */
export function checkGifLzw(b: Uint8Array, frame: GifFrameData, label: string): void {
  const fail = (msg: string): never => {
    throw invalidImage(`${label}: GIF is corrupt: ${msg}`);
  };
  let p = frame.dataOffset;
  if (p >= b.length) return;
  const minCodeSize = b[p++];
  // The GIF spec allows 2..8; 1 is written by some encoders for two-colour images and decodes fine.
  if (minCodeSize < 1 || minCodeSize > 8) fail(`LZW minimum code size ${minCodeSize} (must be 2 to 8)`);
  const clearCode = 1 << minCodeSize;
  const eoiCode = clearCode + 1;
  const pixels = frame.width * frame.height;
  // length of each table entry's string, to count output pixels the way the decoder does
  const length = new Uint16Array(4096);
  for (let c = 0; c < clearCode; c++) length[c] = 1;
  let nextCode = eoiCode + 1;
  let codeSize = minCodeSize + 1;
  let codeMask = (1 << codeSize) - 1;
  let cur = 0;
  let curShift = 0;
  let subblock = p < b.length ? b[p++] : 0;
  let prev = -1; // none
  let out = 0;
  for (;;) {
    while (curShift < 16) {
      if (subblock === 0) break;
      if (p >= b.length) {
        subblock = 0; // the file ends inside the data: the decoder reads zeros, which are literals
        break;
      }
      cur |= b[p++] << curShift;
      curShift += 8;
      if (subblock === 1) subblock = p < b.length ? b[p++] : 0;
      else subblock--;
    }
    if (curShift < codeSize) return;
    const code = cur & codeMask;
    cur >>= codeSize;
    curShift -= codeSize;
    if (code === clearCode) {
      nextCode = eoiCode + 1;
      codeSize = minCodeSize + 1;
      codeMask = (1 << codeSize) - 1;
      prev = -1;
      continue;
    }
    if (code === eoiCode) return;
    if (code > nextCode || (code === nextCode && prev < 0) || (prev < 0 && code > eoiCode)) {
      fail(`LZW code ${code} at byte ${p} refers to a table entry that does not exist yet (next is ${nextCode})`);
    }
    const n = code < nextCode ? length[code] : length[prev] + 1;
    out += n;
    if (out >= pixels) return; // the decoder stops once the frame is full
    if (prev >= 0 && nextCode < 4096) {
      length[nextCode++] = length[prev] + 1;
      if (nextCode >= codeMask + 1 && codeSize < 12) {
        codeSize++;
        codeMask = (codeMask << 1) | 1;
      }
    }
    prev = code;
  }
}
