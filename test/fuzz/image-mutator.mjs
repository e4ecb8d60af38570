/**
 * Image mutators for JPEG, PNG, BMP and GIF: blind ones (bit flips, byte sets, truncation,
 * splices) and format-aware ones that find the header fields and chunk / segment / block
 * structure and edit them: sizes up to 100000 x 100000, PNG chunk lengths and IHDR fields,
 * JPEG SOF / DQT / DHT / SOS / DRI fields and segment lengths, BMP header fields, GIF screen
 * and frame descriptors, LZW minimum code size and sub-block lengths.
 */

const be16 = (b, p) => (b[p] << 8) | b[p + 1];
const le16 = (b, p) => b[p] | (b[p + 1] << 8);
const setBe16 = (b, p, v) => {
  b[p] = (v >> 8) & 0xff;
  b[p + 1] = v & 0xff;
};
const setLe16 = (b, p, v) => {
  b[p] = v & 0xff;
  b[p + 1] = (v >> 8) & 0xff;
};
const setBe32 = (b, p, v) => new DataView(b.buffer, b.byteOffset).setUint32(p, v >>> 0, false);
const setLe32 = (b, p, v) => new DataView(b.buffer, b.byteOffset).setInt32(p, v | 0, true);

export function formatOf(b) {
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  if (b[0] === 0x89 && b[1] === 0x50) return 'png';
  if (b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b[0] === 0x47 && b[1] === 0x49) return 'gif';
  return 'unknown';
}

const DIMS16 = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 255, 256, 4096, 8191, 32767, 32768, 65535];
const DIMS32 = [0, 1, 2, 3, 17, 65535, 65536, 100000, 46341, 1 << 24, 0x7fffffff, -1, -100000, -2147483648];

// ---- structure maps ----------------------------------------------------------------------

function jpegSegments(b) {
  const segs = [];
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) break;
    const marker = b[p + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      p += 2;
      continue;
    }
    if (marker === 0xd9) break;
    const length = be16(b, p + 2);
    segs.push({ pos: p, marker, length });
    if (marker === 0xda) {
      // entropy-coded data follows up to the next non-RST marker
      let q = p + 2 + length;
      while (q + 1 < b.length && !(b[q] === 0xff && b[q + 1] !== 0 && !(b[q + 1] >= 0xd0 && b[q + 1] <= 0xd7))) q++;
      segs[segs.length - 1].dataEnd = q;
      p = q;
      continue;
    }
    p += 2 + length;
  }
  return segs;
}

function pngChunks(b) {
  const chunks = [];
  let p = 8;
  while (p + 12 <= b.length) {
    const length = new DataView(b.buffer, b.byteOffset).getUint32(p, false);
    const type = String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    chunks.push({ pos: p, length, type });
    if (length > b.length) break;
    p += 12 + length;
  }
  return chunks;
}

function gifBlocks(b) {
  // header 6, logical screen 7, optional global table, then blocks
  const out = { screen: 6, globalTable: 0, images: [], extensions: [], subBlocks: [] };
  let p = 13;
  if (b.length < 13) return out;
  if (b[10] & 0x80) {
    out.globalTable = 3 << ((b[10] & 7) + 1);
    p += out.globalTable;
  }
  let guard = 0;
  while (p < b.length && guard++ < 10000) {
    const t = b[p];
    if (t === 0x3b) break;
    if (t === 0x21) {
      out.extensions.push(p);
      p += 2;
      while (p < b.length && b[p] !== 0) {
        out.subBlocks.push(p);
        p += b[p] + 1;
      }
      p++;
    } else if (t === 0x2c) {
      const img = { pos: p, lzw: 0 };
      let q = p + 10;
      if (b[p + 9] & 0x80) q += 3 << ((b[p + 9] & 7) + 1);
      img.lzw = q;
      out.images.push(img);
      p = q + 1;
      while (p < b.length && b[p] !== 0) {
        out.subBlocks.push(p);
        p += b[p] + 1;
      }
      p++;
    } else break;
  }
  return out;
}

// ---- mutations ---------------------------------------------------------------------------

function blind(b, rng) {
  const op = rng.weighted([[4, 'flip'], [2, 'byte'], [3, 'truncate'], [1, 'splice'], [1, 'dup'], [1, 'zero']]);
  const len = b.length;
  if (op === 'flip') {
    const n = rng.pick([1, 1, 2, 4, 16]);
    // headers are where decoders branch: bias flips toward the first 1 KiB
    for (let i = 0; i < n; i++) {
      const p = rng.chance(0.6) ? rng.int(Math.min(len, 1024)) : rng.int(len);
      b[p] ^= 1 << rng.int(8);
    }
    return { bytes: b, desc: `flip ${n} bits` };
  }
  if (op === 'byte') {
    const p = rng.chance(0.6) ? rng.int(Math.min(len, 1024)) : rng.int(len);
    b[p] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]);
    return { bytes: b, desc: `byte@${p} = ${b[p]}` };
  }
  if (op === 'truncate') {
    const at = rng.weighted([[2, () => rng.int(len)], [1, () => rng.int(Math.min(len, 64))], [1, () => len - 1 - rng.int(Math.min(len, 32))]])();
    return { bytes: b.slice(0, Math.max(1, at)), desc: `truncate to ${Math.max(1, at)} of ${len}` };
  }
  if (op === 'splice') {
    const p = rng.int(len);
    const n = rng.int(Math.min(64, len - p) + 1);
    const out = new Uint8Array(len - n);
    out.set(b.subarray(0, p));
    out.set(b.subarray(p + n), p);
    return { bytes: out.length ? out : b, desc: `delete ${n} bytes at ${p}` };
  }
  if (op === 'dup') {
    const p = rng.int(len);
    const n = rng.int(Math.min(256, len - p) + 1);
    const out = new Uint8Array(len + n);
    out.set(b.subarray(0, p + n));
    out.set(b.subarray(p), p + n);
    return { bytes: out, desc: `duplicate ${n} bytes at ${p}` };
  }
  const p = rng.int(len);
  const n = Math.min(len - p, rng.pick([4, 64, 1024]));
  b.fill(0, p, p + n);
  return { bytes: b, desc: `zero ${n} bytes at ${p}` };
}

function jpegAware(b, rng) {
  const segs = jpegSegments(b);
  if (!segs.length) return blind(b, rng);
  const op = rng.weighted([[4, 'sof'], [2, 'dqt'], [3, 'dht'], [2, 'sos'], [2, 'seglen'], [1, 'dri'], [1, 'removeSeg'], [1, 'dupSeg'], [1, 'exif'], [1, 'markerByte'], [1, 'scanData']]);
  const find = (pred) => segs.filter(pred);
  const pick = (arr) => (arr.length ? rng.pick(arr) : null);
  switch (op) {
    case 'sof': {
      const s = pick(find((x) => x.marker >= 0xc0 && x.marker <= 0xcf && x.marker !== 0xc4 && x.marker !== 0xc8 && x.marker !== 0xcc));
      if (!s) break;
      const f = rng.pick(['height', 'width', 'both', 'precision', 'ncomp', 'sampling', 'qtable', 'marker', 'compid']);
      const p = s.pos + 4;
      if (f === 'height' || f === 'both') setBe16(b, p + 1, rng.pick(DIMS16));
      if (f === 'width' || f === 'both') setBe16(b, p + 3, rng.pick(DIMS16));
      if (f === 'precision') b[p] = rng.pick([0, 1, 8, 12, 16, 255]);
      if (f === 'ncomp') b[p + 5] = rng.pick([0, 1, 2, 3, 4, 5, 255]);
      if (f === 'sampling' && p + 7 < b.length) b[p + 7] = rng.pick([0x00, 0x11, 0x22, 0x44, 0x41, 0x14, 0xff, 0x0f, 0xf0]);
      if (f === 'qtable' && p + 8 < b.length) b[p + 8] = rng.pick([0, 1, 3, 4, 255]);
      if (f === 'compid' && p + 6 < b.length) b[p + 6] = rng.int(256);
      if (f === 'marker') b[s.pos + 1] = rng.pick([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc9, 0xcb, 0xcf]);
      return { bytes: b, desc: `jpeg SOF@${s.pos} ${f}` };
    }
    case 'dqt': {
      const s = pick(find((x) => x.marker === 0xdb));
      if (!s) break;
      const p = s.pos + 4;
      if (rng.chance(0.4)) b[p] = rng.pick([0x00, 0x01, 0x03, 0x04, 0x10, 0x13, 0xff]);
      else b.fill(rng.pick([0, 255, 1]), p + 1, Math.min(b.length, p + 1 + rng.pick([1, 8, 64])));
      return { bytes: b, desc: `jpeg DQT@${s.pos} edit` };
    }
    case 'dht': {
      const s = pick(find((x) => x.marker === 0xc4));
      if (!s) break;
      const p = s.pos + 4;
      const f = rng.pick(['class', 'counts', 'counts', 'values', 'allmax']);
      if (f === 'class') b[p] = rng.pick([0x00, 0x01, 0x10, 0x11, 0x04, 0x20, 0xff]);
      else if (f === 'counts') b[p + 1 + rng.int(16)] = rng.pick([0, 1, 2, 16, 128, 255]);
      else if (f === 'allmax') b.fill(255, p + 1, Math.min(b.length, p + 17));
      else if (p + 17 < b.length) b[p + 17 + rng.int(Math.max(1, s.length - 19))] = rng.int(256);
      return { bytes: b, desc: `jpeg DHT@${s.pos} ${f}` };
    }
    case 'sos': {
      const s = pick(find((x) => x.marker === 0xda));
      if (!s) break;
      const p = s.pos + 4;
      const f = rng.pick(['ncomp', 'sel', 'tables', 'ss', 'se', 'ahal']);
      const n = b[p];
      if (f === 'ncomp') b[p] = rng.pick([0, 1, 2, 3, 4, 5, 255]);
      if (f === 'sel') b[p + 1 + 2 * rng.int(Math.max(1, n))] = rng.int(256);
      if (f === 'tables') b[p + 2 + 2 * rng.int(Math.max(1, n))] = rng.pick([0x00, 0x11, 0x44, 0xff, 0x0f]);
      if (f === 'ss') b[p + 1 + 2 * n] = rng.pick([0, 1, 63, 64, 255]);
      if (f === 'se') b[p + 2 + 2 * n] = rng.pick([0, 1, 63, 64, 255]);
      if (f === 'ahal') b[p + 3 + 2 * n] = rng.pick([0, 0x11, 0xff, 0x0d]);
      return { bytes: b, desc: `jpeg SOS@${s.pos} ${f}` };
    }
    case 'seglen': {
      const s = rng.pick(segs);
      setBe16(b, s.pos + 2, rng.pick([0, 1, 2, 3, s.length + 1, s.length - 1, 0xffff, s.length * 2]) & 0xffff);
      return { bytes: b, desc: `jpeg segment 0x${s.marker.toString(16)}@${s.pos} length` };
    }
    case 'dri': {
      // insert a restart interval segment before the first SOS
      const s = pick(find((x) => x.marker === 0xda));
      if (!s) break;
      const seg = new Uint8Array([0xff, 0xdd, 0, 4, 0, 0]);
      setBe16(seg, 4, rng.pick([0, 1, 2, 7, 0xffff]));
      const out = new Uint8Array(b.length + 6);
      out.set(b.subarray(0, s.pos));
      out.set(seg, s.pos);
      out.set(b.subarray(s.pos), s.pos + 6);
      return { bytes: out, desc: `jpeg insert DRI ${be16(seg, 4)}` };
    }
    case 'removeSeg':
    case 'dupSeg': {
      const s = rng.pick(segs);
      const end = s.dataEnd ?? s.pos + 2 + s.length;
      if (end > b.length) break;
      const part = b.subarray(s.pos, end);
      let out;
      if (op === 'removeSeg') {
        out = new Uint8Array(b.length - part.length);
        out.set(b.subarray(0, s.pos));
        out.set(b.subarray(end), s.pos);
      } else {
        out = new Uint8Array(b.length + part.length);
        out.set(b.subarray(0, end));
        out.set(part, end);
        out.set(b.subarray(end), end + part.length);
      }
      return { bytes: out, desc: `jpeg ${op} 0x${s.marker.toString(16)}@${s.pos}` };
    }
    case 'exif': {
      // an APP1 EXIF segment with an orientation tag (values 0-255)
      const o = rng.pick([0, 1, 2, 3, 5, 6, 8, 9, 255]);
      const tiff = [0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0, 0, 0];
      if (rng.chance(0.3)) tiff[9] = rng.pick([0xff, 100]); // entry count lies
      const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
      const seg = new Uint8Array(4 + payload.length);
      seg[0] = 0xff;
      seg[1] = 0xe1;
      setBe16(seg, 2, payload.length + 2);
      seg.set(payload, 4);
      const out = new Uint8Array(b.length + seg.length);
      out.set(b.subarray(0, 2));
      out.set(seg, 2);
      out.set(b.subarray(2), 2 + seg.length);
      return { bytes: out, desc: `jpeg insert EXIF orientation ${o}` };
    }
    case 'markerByte': {
      const s = rng.pick(segs);
      b[s.pos + 1] = rng.pick([0xc0, 0xc2, 0xc4, 0xcc, 0xd8, 0xd9, 0xda, 0xdb, 0xdd, 0xe0, 0xfe, 0x00, 0xff]);
      return { bytes: b, desc: `jpeg marker@${s.pos} -> 0x${b[s.pos + 1].toString(16)}` };
    }
    case 'scanData': {
      const s = pick(find((x) => x.marker === 0xda));
      if (!s || !s.dataEnd) break;
      const start = s.pos + 2 + s.length;
      for (let i = 0; i < rng.pick([1, 4, 32]); i++) {
        const p = start + rng.int(Math.max(1, s.dataEnd - start));
        if (p < b.length) b[p] = rng.pick([0xff, 0x00, rng.int(256)]);
      }
      return { bytes: b, desc: `jpeg scan data bytes` };
    }
  }
  return blind(b, rng);
}

function pngAware(b, rng) {
  const chunks = pngChunks(b);
  if (!chunks.length) return blind(b, rng);
  const op = rng.weighted([[5, 'ihdr'], [3, 'length'], [2, 'idat'], [1, 'removeChunk'], [1, 'dupChunk'], [1, 'type'], [1, 'plte'], [1, 'zlib']]);
  const ihdr = chunks.find((c) => c.type === 'IHDR');
  switch (op) {
    case 'ihdr': {
      if (!ihdr) break;
      const p = ihdr.pos + 8;
      const f = rng.pick(['width', 'height', 'both', 'depth', 'color', 'interlace', 'compression', 'filter']);
      if (f === 'width' || f === 'both') setBe32(b, p, rng.pick(DIMS32));
      if (f === 'height' || f === 'both') setBe32(b, p + 4, rng.pick(DIMS32));
      if (f === 'depth') b[p + 8] = rng.pick([0, 1, 2, 4, 8, 16, 3, 32, 255]);
      if (f === 'color') b[p + 9] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 255]);
      if (f === 'compression') b[p + 10] = rng.pick([0, 1, 255]);
      if (f === 'filter') b[p + 11] = rng.pick([0, 1, 255]);
      if (f === 'interlace') b[p + 12] = rng.pick([0, 1, 2, 255]);
      return { bytes: b, desc: `png IHDR ${f}` };
    }
    case 'length': {
      const c = rng.pick(chunks);
      setBe32(b, c.pos, rng.pick([0, 1, c.length + 1, c.length - 1, 0x7fffffff, 0xffffffff, 0x80000000, c.length * 2]));
      return { bytes: b, desc: `png ${c.type}@${c.pos} length` };
    }
    case 'idat': {
      const ids = chunks.filter((c) => c.type === 'IDAT');
      if (!ids.length) break;
      const c = rng.pick(ids);
      for (let i = 0; i < rng.pick([1, 2, 8]); i++) {
        const p = c.pos + 8 + rng.int(Math.max(1, c.length));
        if (p < b.length) b[p] ^= 1 << rng.int(8);
      }
      return { bytes: b, desc: `png IDAT@${c.pos} data flips` };
    }
    case 'zlib': {
      const c = chunks.find((x) => x.type === 'IDAT');
      if (!c) break;
      b[c.pos + 8 + rng.int(2)] = rng.pick([0x78, 0x08, 0xff, 0x00, 0x7f]);
      return { bytes: b, desc: `png zlib header` };
    }
    case 'plte': {
      // insert a PLTE chunk (size 0, 3, 768, 771) before the first IDAT
      const c = chunks.find((x) => x.type === 'IDAT');
      if (!c) break;
      const n = rng.pick([0, 3, 6, 768, 771]);
      const ch = new Uint8Array(12 + n);
      setBe32(ch, 0, n);
      ch.set([0x50, 0x4c, 0x54, 0x45], 4);
      const out = new Uint8Array(b.length + ch.length);
      out.set(b.subarray(0, c.pos));
      out.set(ch, c.pos);
      out.set(b.subarray(c.pos), c.pos + ch.length);
      if (ihdr && rng.chance(0.7)) out[ihdr.pos + 8 + 9] = 3; // palette color type
      return { bytes: out, desc: `png insert PLTE of ${n} bytes` };
    }
    case 'removeChunk':
    case 'dupChunk': {
      const c = rng.pick(chunks);
      const end = c.pos + 12 + c.length;
      if (end > b.length) break;
      const part = b.subarray(c.pos, end);
      let out;
      if (op === 'removeChunk') {
        out = new Uint8Array(b.length - part.length);
        out.set(b.subarray(0, c.pos));
        out.set(b.subarray(end), c.pos);
      } else {
        out = new Uint8Array(b.length + part.length);
        out.set(b.subarray(0, end));
        out.set(part, end);
        out.set(b.subarray(end), end + part.length);
      }
      return { bytes: out, desc: `png ${op} ${c.type}@${c.pos}` };
    }
    case 'type': {
      const c = rng.pick(chunks);
      const t = rng.pick(['IHDR', 'IDAT', 'IEND', 'PLTE', 'tRNS', 'acTL', 'fcTL', 'iCCP', 'zzzz']);
      for (let i = 0; i < 4; i++) b[c.pos + 4 + i] = t.charCodeAt(i);
      return { bytes: b, desc: `png chunk ${c.type}@${c.pos} -> ${t}` };
    }
  }
  return blind(b, rng);
}

function bmpAware(b, rng) {
  if (b.length < 54) return blind(b, rng);
  const f = rng.pick(['width', 'height', 'both', 'bpp', 'compression', 'offBits', 'dibSize', 'colorsUsed', 'imageSize', 'planes', 'negHeight', 'masks']);
  if (f === 'width' || f === 'both') setLe32(b, 18, rng.pick(DIMS32));
  if (f === 'height' || f === 'both') setLe32(b, 22, rng.pick(DIMS32));
  if (f === 'negHeight') setLe32(b, 22, -Math.abs(new DataView(b.buffer, b.byteOffset).getInt32(22, true)));
  if (f === 'bpp') setLe16(b, 28, rng.pick([0, 1, 2, 4, 8, 15, 16, 24, 32, 64, 0xffff]));
  if (f === 'compression') setLe32(b, 30, rng.pick([0, 1, 2, 3, 4, 5, 6, 11, -1]));
  if (f === 'offBits') setLe32(b, 10, rng.pick([0, 14, 54, 1078, b.length, b.length + 1, 0x7fffffff, -1]));
  if (f === 'dibSize') setLe32(b, 14, rng.pick([0, 12, 16, 40, 52, 56, 64, 108, 124, 1000, -1]));
  if (f === 'colorsUsed') setLe32(b, 46, rng.pick([0, 1, 2, 256, 257, 0x7fffffff, -1]));
  if (f === 'imageSize') setLe32(b, 34, rng.pick([0, 1, 0x7fffffff, -1]));
  if (f === 'planes') setLe16(b, 26, rng.pick([0, 1, 2, 0xffff]));
  if (f === 'masks') {
    setLe32(b, 30, 3);
    setLe16(b, 28, rng.pick([16, 32]));
    if (b.length >= 66) for (let i = 0; i < 3; i++) setLe32(b, 54 + 4 * i, rng.pick([0, -1, 0xff, 0xff00, 0x80000001, 1]));
  }
  return { bytes: b, desc: `bmp ${f}` };
}

function gifAware(b, rng) {
  const g = gifBlocks(b);
  const op = rng.weighted([[3, 'screen'], [3, 'frame'], [3, 'lzw'], [3, 'subblock'], [1, 'packed'], [1, 'ext'], [1, 'trailer']]);
  switch (op) {
    case 'screen': {
      const f = rng.pick(['w', 'h', 'both']);
      if (f !== 'h') setLe16(b, 6, rng.pick(DIMS16));
      if (f !== 'w') setLe16(b, 8, rng.pick(DIMS16));
      return { bytes: b, desc: `gif screen ${f}` };
    }
    case 'frame': {
      const img = g.images.length ? rng.pick(g.images) : null;
      if (!img) break;
      const f = rng.pick(['left', 'top', 'width', 'height', 'size', 'packed']);
      const p = img.pos;
      if (f === 'left') setLe16(b, p + 1, rng.pick(DIMS16));
      if (f === 'top') setLe16(b, p + 3, rng.pick(DIMS16));
      if (f === 'width' || f === 'size') setLe16(b, p + 5, rng.pick(DIMS16));
      if (f === 'height' || f === 'size') setLe16(b, p + 7, rng.pick(DIMS16));
      if (f === 'packed') b[p + 9] = rng.pick([0x00, 0x40, 0x80, 0x87, 0xc7, 0xff]);
      return { bytes: b, desc: `gif frame@${p} ${f}` };
    }
    case 'lzw': {
      const img = g.images.length ? rng.pick(g.images) : null;
      if (!img || img.lzw >= b.length) break;
      const old = b[img.lzw];
      b[img.lzw] = rng.pick([0, 1, 2, 7, 8, 9, 11, 12, 13, 255]);
      return { bytes: b, desc: `gif LZW min code size ${old} -> ${b[img.lzw]}` };
    }
    case 'subblock': {
      if (!g.subBlocks.length) break;
      const p = rng.pick(g.subBlocks);
      const old = b[p];
      b[p] = rng.pick([0, 1, 254, 255, old + 1, old - 1]) & 0xff;
      return { bytes: b, desc: `gif sub-block@${p} length ${old} -> ${b[p]}` };
    }
    case 'packed': {
      b[10] = rng.pick([0x00, 0x80, 0x87, 0xf7, 0x7f, 0xff]);
      return { bytes: b, desc: `gif screen packed -> ${b[10]}` };
    }
    case 'ext': {
      if (!g.extensions.length) break;
      const p = rng.pick(g.extensions);
      b[p + 1] = rng.pick([0xf9, 0xfe, 0xff, 0x01, 0x00, 0x2c]);
      return { bytes: b, desc: `gif extension label@${p}` };
    }
    case 'trailer': {
      const i = b.lastIndexOf(0x3b);
      if (i < 0) break;
      return { bytes: b.slice(0, i), desc: `gif without trailer` };
    }
  }
  return blind(b, rng);
}

const AWARE = { jpeg: jpegAware, png: pngAware, bmp: bmpAware, gif: gifAware };

/** A mutated copy of an image seed: 1-3 mutations, format-aware about 60% of the time. */
export function mutateImage(seed, rng) {
  let b = seed.slice();
  const mutations = [];
  const n = rng.weighted([[5, 1], [3, 2], [1, 3]]);
  for (let i = 0; i < n; i++) {
    const fmt = formatOf(b);
    const r = rng.chance(0.6) && AWARE[fmt] ? AWARE[fmt](b, rng) : blind(b, rng);
    b = r.bytes;
    mutations.push(r.desc);
  }
  return { bytes: b, mutations };
}
