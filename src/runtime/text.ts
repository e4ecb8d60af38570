/**
 * UTF-8 for the model readers and writers. TextDecoder/TextEncoder where the engine has them
 * (browsers, Node, Deno, Bun, workerd); a plain-JS fallback where it does not (QuickJS, Hermes
 * and other embedded engines run the core with the wasm2js kernels), so importing the core
 * never fails there. Malformed input decodes to U+FFFD, as TextDecoder's non-fatal mode does.
 */
type Decoder = { decode(bytes: Uint8Array): string };
type Encoder = { encode(text: string): Uint8Array };
const g = globalThis as { TextDecoder?: new (label?: string, o?: { fatal?: boolean }) => Decoder; TextEncoder?: new () => Encoder };
let decoder: Decoder | undefined;
let encoder: Encoder | undefined;

export function utf8Decode(bytes: Uint8Array): string {
  if (g.TextDecoder) return (decoder ??= new g.TextDecoder('utf-8', { fatal: false })).decode(bytes);
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    let cp = need === 0 ? b : need === 1 ? b & 0x1f : need === 2 ? b & 0x0f : b & 0x07;
    let ok = need >= 0 && i + need < bytes.length;
    for (let k = 1; ok && k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    // overlong forms, surrogates and values past U+10FFFF are malformed too
    if (ok && ((need === 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
    if (!ok) { out += '\ufffd'; i += 1; continue; }
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

export function utf8Encode(text: string): Uint8Array {
  if (g.TextEncoder) return (encoder ??= new g.TextEncoder()).encode(text);
  const out: number[] = [];
  for (const ch of text) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd; // a lone surrogate, as TextEncoder does
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return new Uint8Array(out);
}
