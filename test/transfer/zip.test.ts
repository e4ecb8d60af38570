/**
 * The zip of packed files after a .tflite (src/transfer/zip.ts): our stored entries read back
 * with offsets relative to the archive (what we write) or to the whole file (what Python's
 * zipfile writes when appending to the model); deflated entries (fflate) unpacked; damage is
 * INVALID_MODEL, never a RangeError or silently short labels.
 */
import { describe, it, expect } from 'vitest';
import { zipSync } from 'fflate';
import { MAX_PACKED_FILE_BYTES, storedZip, zipEntry } from '../../src/transfer/zip.js';

const enc = new TextEncoder();
const model = enc.encode('TFL3-model-bytes-before-the-archive');

function withZip(zip: Uint8Array): Uint8Array {
  const out = new Uint8Array(model.length + zip.length);
  out.set(model);
  out.set(zip, model.length);
  return out;
}

describe('packed-file zip', () => {
  const zip = storedZip([
    { name: 'labels.txt', data: enc.encode('cat\ndog\n') },
    { name: 'other.txt', data: enc.encode('x') },
  ]);

  it('reads stored entries with archive-relative offsets', () => {
    const bytes = withZip(zip);
    expect(new TextDecoder().decode((zipEntry(bytes, 'labels.txt') as { data: Uint8Array }).data)).toBe('cat\ndog\n');
    expect(new TextDecoder().decode((zipEntry(bytes, 'other.txt') as { data: Uint8Array }).data)).toBe('x');
    expect(zipEntry(bytes, 'missing.txt')).toBeUndefined();
    expect(zipEntry(model, 'labels.txt')).toBeUndefined();
  });

  it('reads offsets relative to the file start too', () => {
    const bytes = withZip(zip);
    const dv = new DataView(bytes.buffer);
    const end = bytes.length - 22;
    const central = end - dv.getUint32(end + 12, true);
    dv.setUint32(end + 16, central, true);
    // both central entries' local header offsets move by the model's length
    let pos = central;
    for (let i = 0; i < 2; i++) {
      dv.setUint32(pos + 42, dv.getUint32(pos + 42, true) + model.length, true);
      pos += 46 + dv.getUint16(pos + 28, true);
    }
    expect(new TextDecoder().decode((zipEntry(bytes, 'other.txt') as { data: Uint8Array }).data)).toBe('x');
  });

  it('unpacks a deflated entry (what a zip tool may write)', () => {
    const text = 'cat\n'.repeat(200);
    const deflated = zipSync({ 'labels.txt': [enc.encode(text), { level: 9 }] });
    expect(deflated.length).toBeLessThan(text.length); // really compressed
    expect(new TextDecoder().decode(zipEntry(withZip(deflated), 'labels.txt')!.data)).toBe(text);
  });

  it('writes the same bytes every time (a fixed timestamp)', () => {
    expect(storedZip([{ name: 'a', data: enc.encode('x') }])).toEqual(storedZip([{ name: 'a', data: enc.encode('x') }]));
  });

  it('damage is INVALID_MODEL', () => {
    const cases: [string, (dv: DataView, end: number) => void, RegExp, string?][] = [
      ['directory size past the start', (dv, end) => dv.setUint32(end + 12, 1e6, true), /does not fit/],
      ['local header offset past the end', (dv, end) => dv.setUint32(end - dv.getUint32(end + 12, true) + 42, 1e6, true), /0 of the 8 bytes/],
      ['entry size past the end', (dv, end) => dv.setUint32(end - dv.getUint32(end + 12, true) + 24, 1e6, true), /of the 1000000 bytes/],
      ['entry size beyond any label file', (dv, end) => dv.setUint32(end - dv.getUint32(end + 12, true) + 24, MAX_PACKED_FILE_BYTES + 1, true), /more than the/],
    ];
    for (const [what, damage, message, name = 'labels.txt'] of cases) {
      const bytes = withZip(zip);
      const dv = new DataView(bytes.buffer);
      damage(dv, bytes.length - 22);
      expect(() => zipEntry(bytes, name), what).toThrow(expect.objectContaining({ code: 'INVALID_MODEL', message: expect.stringMatching(message) }));
    }
  });
});
