/**
 * Structure-aware .tflite mutators.
 *
 * A small, tolerant flatbuffer walker of its own (independent of the project's reader, so a
 * reader bug cannot hide sites from the fuzzer) maps a seed model once: where every scalar
 * field, vtable entry, uoffset, vector length, tensor shape, quantization scale / zero point,
 * buffer and op lives. Mutations then edit a copy of the bytes in place (the layout stays,
 * so most edits reach deep into the reader instead of dying at the first offset check):
 * semantic field edits with interesting values, weight poisoning (NaN, Inf, huge, subnormal),
 * op removal / duplication / reordering, input swaps, plus plain truncation and bit/byte flips.
 */

const OPTIONS_SCHEMA = {
  1: { name: 'Conv2DOptions', fields: { 0: ['i8', 'padding'], 1: ['i32', 'stride_w'], 2: ['i32', 'stride_h'], 3: ['i8', 'activation'], 4: ['i32', 'dilation_w'], 5: ['i32', 'dilation_h'] } },
  2: {
    name: 'DepthwiseConv2DOptions',
    fields: { 0: ['i8', 'padding'], 1: ['i32', 'stride_w'], 2: ['i32', 'stride_h'], 3: ['i32', 'depth_multiplier'], 4: ['i8', 'activation'], 5: ['i32', 'dilation_w'], 6: ['i32', 'dilation_h'] },
  },
  5: { name: 'Pool2DOptions', fields: { 0: ['i8', 'padding'], 1: ['i32', 'stride_w'], 2: ['i32', 'stride_h'], 3: ['i32', 'filter_width'], 4: ['i32', 'filter_height'], 5: ['i8', 'activation'] } },
  8: { name: 'FullyConnectedOptions', fields: { 0: ['i8', 'activation'], 1: ['i8', 'weights_format'], 2: ['u8', 'keep_num_dims'], 3: ['u8', 'asymmetric_quantize_inputs'] } },
  9: { name: 'SoftmaxOptions', fields: { 0: ['f32', 'beta'] } },
  10: { name: 'ConcatenationOptions', fields: { 0: ['i32', 'axis'], 1: ['i8', 'activation'] } },
  11: { name: 'AddOptions', fields: { 0: ['i8', 'activation'] } },
  21: { name: 'MulOptions', fields: { 0: ['i8', 'activation'] } },
  27: { name: 'ReducerOptions', fields: { 0: ['u8', 'keep_dims'] } },
  17: { name: 'ReshapeOptions', fields: { 0: ['vec_i32', 'new_shape'] } },
  30: { name: 'SqueezeOptions', fields: { 0: ['vec_i32', 'squeeze_dims'] } },
};

const SCHEMA = {
  Model: { 0: ['u32', 'version'], 1: ['vec_table', 'operator_codes', 'OperatorCode'], 2: ['vec_table', 'subgraphs', 'SubGraph'], 3: ['string', 'description'], 4: ['vec_table', 'buffers', 'Buffer'], 5: ['vec_i32', 'metadata_buffer'] },
  OperatorCode: { 0: ['i8', 'deprecated_builtin_code'], 1: ['string', 'custom_code'], 2: ['i32', 'version'], 3: ['i32', 'builtin_code'] },
  SubGraph: { 0: ['vec_table', 'tensors', 'Tensor'], 1: ['vec_i32', 'inputs'], 2: ['vec_i32', 'outputs'], 3: ['vec_table', 'operators', 'Operator'], 4: ['string', 'name'] },
  Tensor: { 0: ['vec_i32', 'shape'], 1: ['u8', 'type'], 2: ['u32', 'buffer'], 3: ['string', 'name'], 4: ['table', 'quantization', 'Quant'], 5: ['u8', 'is_variable'], 6: ['table', 'sparsity', null], 7: ['vec_i32', 'shape_signature'] },
  Quant: { 0: ['vec_f32', 'min'], 1: ['vec_f32', 'max'], 2: ['vec_f32', 'scale'], 3: ['vec_i64', 'zero_point'], 4: ['u8', 'details_type'], 5: ['table', 'details', null], 6: ['i32', 'quantized_dimension'] },
  Operator: { 0: ['u32', 'opcode_index'], 1: ['vec_i32', 'inputs'], 2: ['vec_i32', 'outputs'], 3: ['u8', 'builtin_options_type'], 4: ['options', 'builtin_options'], 5: ['vec_u8', 'custom_options'] },
  Buffer: { 0: ['vec_u8', 'data'], 1: ['u64', 'offset'], 2: ['u64', 'size'] },
};

const SIZE = { u8: 1, i8: 1, u16: 2, i32: 4, u32: 4, f32: 4, i64: 8, u64: 8 };

/**
 * Map a (valid) .tflite file. Returns sites (scalar positions with a kind and a tag), tables,
 * vectors and the model's structure (tensors, buffers, operators). Tolerant: anything out of
 * bounds is skipped, so it also maps already-mutated bytes well enough.
 */
export function mapTflite(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.byteLength;
  const ok = (p, n) => Number.isInteger(p) && p >= 0 && p + n <= len;
  const sites = [];
  const tables = [];
  const vectors = [];
  const seen = new Set();
  const model = { tensors: [], buffers: [], operators: null, opcodes: [], subgraphInputs: null, subgraphOutputs: null, dataRanges: [] };
  const site = (pos, kind, tag, extra) => {
    if (ok(pos, SIZE[kind] ?? 4)) sites.push({ pos, kind, tag, ...extra });
  };

  const deref = (p) => (ok(p, 4) ? p + dv.getUint32(p, true) : -1);

  function table(pos, type, path, info) {
    if (!ok(pos, 4) || seen.has(pos)) return;
    seen.add(pos);
    const vt = pos - dv.getInt32(pos, true);
    if (!ok(vt, 4)) return;
    const vtSize = dv.getUint16(vt, true);
    if (!ok(vt, vtSize) || vtSize < 4) return;
    const t = { pos, vtable: vt, vtSize, type, path, fields: {} };
    tables.push(t);
    site(pos, 'soffset', `${path}.<vtable soffset>`);
    site(vt, 'u16', `${path}.<vtable size>`);
    site(vt + 2, 'u16', `${path}.<inline size>`);
    const schema = type === 'Options' ? OPTIONS_SCHEMA[info.optionsType]?.fields ?? {} : SCHEMA[type] ?? {};
    const nSlots = (vtSize - 4) >> 1;
    let optionsType = 0;
    for (let s = 0; s < nSlots; s++) {
      const entry = vt + 4 + 2 * s;
      const off = dv.getUint16(entry, true);
      site(entry, 'u16', `${path}.<vtable slot ${s}>`, { vtableEntry: true });
      if (off === 0) continue;
      const fpos = pos + off;
      t.fields[s] = fpos;
      const f = schema[s];
      if (!f) continue;
      const [kind, name, sub] = f;
      const tag = `${type === 'Options' ? OPTIONS_SCHEMA[info.optionsType].name : type}.${name}`;
      if (SIZE[kind]) {
        site(fpos, kind, tag, { path: `${path}.${name}` });
        if (type === 'Operator' && name === 'builtin_options_type' && ok(fpos, 1)) optionsType = dv.getUint8(fpos);
        continue;
      }
      site(fpos, 'uoffset', `${tag}<uoffset>`);
      const target = deref(fpos);
      if (target < 0 || !ok(target, 4)) continue;
      if (kind === 'table' && sub) table(target, sub, `${path}.${name}`, {});
      else if (kind === 'options') {
        // union value: the type is a sibling field, read after the loop
        t.optionsPos = target;
      } else if (kind === 'string' || kind.startsWith('vec_')) {
        const n = dv.getUint32(target, true);
        const elem = kind === 'vec_i64' ? 8 : kind === 'vec_u8' || kind === 'string' ? 1 : 4;
        const v = { lenPos: target, start: target + 4, length: n, elem, tag, path: `${path}.${name}` };
        vectors.push(v);
        site(target, 'veclen', `${tag}<length>`, { vector: v });
        t.fields[s + ':vec'] = v;
        if (!ok(target + 4, n * elem)) continue;
        if (kind === 'vec_i32') for (let i = 0; i < n; i++) site(target + 4 + 4 * i, 'i32', `${tag}[]`, { index: i });
        if (kind === 'vec_f32') for (let i = 0; i < n && i < 4096; i++) site(target + 4 + 4 * i, 'f32', `${tag}[]`, { index: i });
        if (kind === 'vec_i64') for (let i = 0; i < n && i < 4096; i++) site(target + 4 + 8 * i, 'i64', `${tag}[]`, { index: i });
        if (kind === 'vec_table') {
          const items = [];
          for (let i = 0; i < n; i++) {
            const ep = target + 4 + 4 * i;
            site(ep, 'uoffset', `${tag}[]<uoffset>`, { index: i });
            const tp = deref(ep);
            items.push(tp);
            table(tp, sub, `${path}.${name}[${i}]`, {});
          }
          v.items = items;
        }
      }
    }
    if (type === 'Operator' && t.optionsPos !== undefined && OPTIONS_SCHEMA[optionsType]) {
      table(t.optionsPos, 'Options', `${path}.builtin_options`, { optionsType });
    }
    return t;
  }

  if (len >= 8) table(deref(0), 'Model', 'model', {});
  site(0, 'uoffset', 'root<uoffset>');

  // structure for semantic edits
  const byPath = new Map(tables.map((t) => [t.path, t]));
  const vecByPath = new Map(vectors.map((v) => [v.path, v]));
  const u8 = (p, d = 0) => (ok(p, 1) ? dv.getUint8(p) : d);
  const u32 = (p, d = 0) => (ok(p, 4) ? dv.getUint32(p, true) : d);
  for (let i = 0; ; i++) {
    const t = byPath.get(`model.subgraphs[0].tensors[${i}]`);
    if (!t) break;
    model.tensors.push({
      index: i,
      type: t.fields[1] !== undefined ? u8(t.fields[1]) : 0,
      buffer: t.fields[2] !== undefined ? u32(t.fields[2]) : 0,
      shape: vecByPath.get(`model.subgraphs[0].tensors[${i}].shape`) ?? null,
      scale: vecByPath.get(`model.subgraphs[0].tensors[${i}].quantization.scale`) ?? null,
      zeroPoint: vecByPath.get(`model.subgraphs[0].tensors[${i}].quantization.zero_point`) ?? null,
    });
  }
  for (let i = 0; ; i++) {
    const t = byPath.get(`model.buffers[${i}]`);
    if (!t) break;
    const data = vecByPath.get(`model.buffers[${i}].data`) ?? null;
    model.buffers.push({ index: i, data });
    if (data && data.length > 0) model.dataRanges.push([data.start, data.start + data.length]);
  }
  model.operators = vecByPath.get('model.subgraphs[0].operators') ?? null;
  model.subgraphInputs = vecByPath.get('model.subgraphs[0].inputs') ?? null;
  model.subgraphOutputs = vecByPath.get('model.subgraphs[0].outputs') ?? null;
  model.opInputs = [];
  model.opOutputs = [];
  for (let i = 0; model.operators && i < model.operators.length; i++) {
    model.opInputs.push(vecByPath.get(`model.subgraphs[0].operators[${i}].inputs`) ?? null);
    model.opOutputs.push(vecByPath.get(`model.subgraphs[0].operators[${i}].outputs`) ?? null);
  }
  model.dataRanges.sort((a, b) => a[0] - b[0]);
  // non-data ("metadata") positions, where blind bit flips are most interesting
  const meta = [];
  let at = 0;
  for (const [s, e] of model.dataRanges) {
    if (s > at) meta.push([at, s]);
    at = Math.max(at, e);
  }
  if (at < len) meta.push([at, len]);
  model.metaRanges = meta;
  model.metaBytes = meta.reduce((n, [s, e]) => n + e - s, 0);
  return { sites, tables, vectors, model, length: len };
}

// ---- interesting values ------------------------------------------------------------------

const I32_EDGE = [0, -1, 1, 2, 3, 4, 7, 8, 16, 127, 128, 255, 256, 1000, 1001, 65535, 65536, 65537, 100000, 0x3fffffff, 0x7fffffff, -0x80000000, -2, -65536];
const F32_EDGE = [NaN, Infinity, -Infinity, 0, -0, 1e-45, 1.4e-45, 1e-40, 1.17e-38, -1, -0.5, 1e-30, 1e30, 3.4e38, -3.4e38, 1, 0.5, 2 ** -24, 2 ** 31, 1e-10];

function interestingI32(rng, old) {
  return rng.weighted([
    [6, () => rng.pick(I32_EDGE)],
    [2, () => old + rng.pick([-1, 1, -2, 2])],
    [1, () => old * 2],
    [1, () => -old],
    [1, () => rng.u32() | 0],
    [1, () => rng.range(0, 300)],
  ])();
}

function setI64(dv, pos, value) {
  // value: number (may exceed 2^53: written via BigInt)
  dv.setBigInt64(pos, BigInt.asIntN(64, BigInt(Math.trunc(value))), true);
}

/** A mutation list entry: short text describing the edit, for the repro JSON. */
function fmtVal(v) {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
}

/**
 * Apply one mutation to `b` (a copy of the seed), given its map. Returns { bytes, desc }:
 * bytes may be a new (shorter/longer) array for truncation or insertion.
 */
export function mutateOnce(b, map, rng) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const { sites, model } = map;
  const len = b.length;
  const ok = (p, n) => p >= 0 && p + n <= len;
  const choice = rng.weighted([
    [3, 'truncate'],
    [6, 'bitflip'],
    [3, 'byte'],
    [22, 'field'],
    [6, 'shape'],
    [8, 'quant'],
    [5, 'weights'],
    [4, 'vtable'],
    [5, 'uoffset'],
    [3, 'veclen'],
    [5, 'ops'],
    [4, 'wiring'],
    [2, 'opcode'],
    [2, 'type'],
    [2, 'buffer'],
  ]);
  // site lists per category, computed once per map
  const cache = (map.cache ??= new Map());
  const pickSite = (name, pred) => {
    let c = cache.get(name);
    if (!c) cache.set(name, (c = sites.filter(pred)));
    return c.length ? rng.pick(c) : null;
  };
  const metaPos = () => {
    // uniform over non-data bytes, sometimes anywhere
    if (model.metaBytes === 0 || rng.chance(0.15)) return rng.int(len);
    let r = rng.int(model.metaBytes);
    for (const [s, e] of model.metaRanges) {
      if (r < e - s) return s + r;
      r -= e - s;
    }
    return rng.int(len);
  };
  const editScalar = (s) => {
    if (!ok(s.pos, SIZE[s.kind] ?? 4)) return `skip ${s.tag}`;
    switch (s.kind) {
      case 'u8':
      case 'i8': {
        const old = dv.getUint8(s.pos);
        const v = rng.weighted([[4, () => rng.range(0, 12)], [2, () => rng.pick([127, 128, 255, 0x7e, 0x80 + rng.int(8)])], [1, () => rng.int(256)], [1, () => old ^ (1 << rng.int(8))]])();
        dv.setUint8(s.pos, v & 0xff);
        return `${s.tag}@${s.pos}: ${old} -> ${v & 0xff}`;
      }
      case 'u16': {
        const old = dv.getUint16(s.pos, true);
        const v = rng.pick([0, 2, 3, 4, 5, 6, old + 2, old - 2, old + 4, old * 2, 0xfffe, 0xffff, rng.int(65536), rng.range(0, 64)]) & 0xffff;
        dv.setUint16(s.pos, v, true);
        return `${s.tag}@${s.pos}: ${old} -> ${v}`;
      }
      case 'i32':
      case 'u32':
      case 'soffset': {
        const old = dv.getInt32(s.pos, true);
        const v = interestingI32(rng, old) | 0;
        dv.setInt32(s.pos, v, true);
        return `${s.tag}@${s.pos}: ${old} -> ${v}`;
      }
      case 'f32': {
        const old = dv.getFloat32(s.pos, true);
        const v = rng.weighted([[6, () => rng.pick(F32_EDGE)], [2, () => -old], [2, () => old * 2 ** rng.range(-40, 40)], [1, () => old * (1 + (rng.float() - 0.5) * 1e-3)]])();
        dv.setFloat32(s.pos, v, true);
        return `${s.tag}@${s.pos}: ${fmtVal(old)} -> ${fmtVal(Math.fround(v))}`;
      }
      case 'i64':
      case 'u64': {
        const old = Number(dv.getBigInt64(s.pos, true));
        const v = rng.pick([-129, -128, -1, 0, 1, 127, 128, 255, 256, -32768, 2 ** 31, 2 ** 53, -(2 ** 53), 2 ** 62, -(2 ** 63), old + 1, old - 1, 1 << 20]);
        setI64(dv, s.pos, v);
        return `${s.tag}@${s.pos}: ${old} -> ${v}`;
      }
      case 'uoffset': {
        const old = dv.getUint32(s.pos, true);
        const v = rng.weighted([
          [3, () => old + rng.pick([-8, -4, 4, 8, 2, 1, -1])],
          [2, () => rng.pick([0, 1, 4, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffc, len, len - s.pos, len - s.pos - 4])],
          [2, () => rng.int(len) - s.pos], // anywhere in the file
          [2, () => (s.pos + old < len ? (pickSite('uoffset', (x) => x.kind === 'uoffset')?.pos ?? 0) + rng.int(8) - s.pos : old)], // near another object
        ])();
        dv.setUint32(s.pos, v >>> 0, true);
        return `${s.tag}@${s.pos}: ${old} -> ${v >>> 0}`;
      }
      case 'veclen': {
        const old = dv.getUint32(s.pos, true);
        const v = rng.pick([0, 1, old - 1, old + 1, old * 2, old + 1000, 0x3fffffff, 0x7fffffff, 0xffffffff, 0x40000000, rng.int(1 << 20)]) >>> 0;
        dv.setUint32(s.pos, v, true);
        return `${s.tag}@${s.pos}: ${old} -> ${v}`;
      }
    }
    return `skip ${s.tag}`;
  };

  switch (choice) {
    case 'truncate': {
      const at = rng.weighted([[2, () => rng.int(len)], [1, () => rng.int(Math.min(len, 256))], [1, () => len - 1 - rng.int(Math.min(len, 64))], [1, () => (sites.length ? rng.pick(sites).pos : 0)]])();
      return { bytes: b.slice(0, Math.max(0, at)), desc: `truncate to ${Math.max(0, at)} of ${len} bytes` };
    }
    case 'bitflip': {
      const n = rng.pick([1, 1, 1, 2, 3, 8]);
      const at = [];
      for (let i = 0; i < n; i++) {
        const p = metaPos();
        const bit = rng.int(8);
        b[p] ^= 1 << bit;
        at.push(`${p}.${bit}`);
      }
      return { bytes: b, desc: `bitflip ${at.join(',')}` };
    }
    case 'byte': {
      const p = metaPos();
      const old = b[p];
      b[p] = rng.pick([0, 0xff, 0x7f, 0x80, 1, rng.int(256)]);
      return { bytes: b, desc: `byte@${p}: ${old} -> ${b[p]}` };
    }
    case 'field': {
      const s = pickSite('field', (x) => ['u8', 'i8', 'i32', 'u32', 'f32', 'i64', 'u64'].includes(x.kind) && !x.tag.startsWith('Quant') && !x.tag.includes('.shape'));
      return { bytes: b, desc: s ? editScalar(s) : 'no field' };
    }
    case 'shape': {
      const s = pickSite('shape', (x) => x.tag === 'Tensor.shape[]' || x.tag === 'ReshapeOptions.new_shape[]' || x.tag === 'SqueezeOptions.squeeze_dims[]' || x.tag === 'SubGraph.inputs[]');
      if (!s) return { bytes: b, desc: 'no shape' };
      const old = dv.getInt32(s.pos, true);
      const v = rng.weighted([[5, () => interestingI32(rng, old)], [2, () => rng.pick([0, 1, -1, 65536, 65537, 100000])], [1, () => old * rng.pick([2, 4, 1024])]])() | 0;
      dv.setInt32(s.pos, v, true);
      return { bytes: b, desc: `${s.tag}@${s.pos}: ${old} -> ${v}` };
    }
    case 'quant': {
      const which = rng.weighted([[5, 'scale'], [3, 'zp'], [1, 'dim'], [1, 'any']]);
      const s =
        which === 'scale'
          ? pickSite('q.scale', (x) => x.tag === 'Quant.scale[]')
          : which === 'zp'
            ? pickSite('q.zp', (x) => x.tag === 'Quant.zero_point[]')
            : which === 'dim'
              ? pickSite('q.dim', (x) => x.tag === 'Quant.quantized_dimension' || x.tag === 'Quant.details_type')
              : pickSite('q.any', (x) => x.tag.startsWith('Quant.'));
      return { bytes: b, desc: s ? editScalar(s) : 'no quant' };
    }
    case 'weights': {
      // poison constant data: float weights get NaN / Inf / huge / subnormal values,
      // int32 biases extremes, int8/uint8 filters random bytes
      const consts = model.tensors.filter((t) => t.buffer > 0 && model.buffers[t.buffer]?.data?.length > 0);
      if (!consts.length) return { bytes: b, desc: 'no weights' };
      const t = rng.pick(consts);
      const d = model.buffers[t.buffer].data;
      const n = rng.pick([1, 1, 2, 16, 1 << 30]);
      const edits = [];
      if (t.type === 0 || t.type === 2) {
        const count = d.length >> 2;
        const v = t.type === 0 ? rng.pick([NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 2.34e38, 1e30, 1e20, 1e-45, 1e-39, -0]) : rng.pick([0x7fffffff, -0x80000000, 0x40000000, -1]);
        for (let i = 0; i < Math.min(n, count); i++) {
          const at = d.start + 4 * (n >= count ? i : rng.int(count));
          if (t.type === 0) dv.setFloat32(at, v, true);
          else dv.setInt32(at, v, true);
        }
        edits.push(`${Math.min(n, count)} x ${fmtVal(v)}`);
      } else {
        const v = rng.pick([0, 127, 128, 255, -1 & 0xff]);
        for (let i = 0; i < Math.min(n, d.length); i++) b[d.start + (n >= d.length ? i : rng.int(d.length))] = v;
        edits.push(`${Math.min(n, d.length)} bytes = ${v}`);
      }
      return { bytes: b, desc: `weights of tensor ${t.index} (type ${t.type}, buffer ${t.buffer}): ${edits.join(', ')}` };
    }
    case 'vtable': {
      const s = pickSite('vtable', (x) => x.kind === 'u16' || x.kind === 'soffset');
      return { bytes: b, desc: s ? editScalar(s) : 'no vtable' };
    }
    case 'uoffset': {
      const s = pickSite('uoffset', (x) => x.kind === 'uoffset');
      return { bytes: b, desc: s ? editScalar(s) : 'no uoffset' };
    }
    case 'veclen': {
      const s = pickSite('veclen', (x) => x.kind === 'veclen');
      return { bytes: b, desc: s ? editScalar(s) : 'no vector' };
    }
    case 'ops': {
      const ops = model.operators;
      if (!ops || !ops.items || ops.length < 1) return { bytes: b, desc: 'no ops' };
      const n = ops.length;
      const entry = (i) => ops.start + 4 * i;
      const target = (i) => ops.items[i];
      const point = (i, tgt) => dv.setUint32(entry(i), (tgt - entry(i)) >>> 0, true);
      const kind = rng.pick(['remove', 'duplicate', 'swap', 'removeLast', 'truncateList', 'repeatAll']);
      if (kind === 'remove' || kind === 'removeLast') {
        const i = kind === 'removeLast' ? n - 1 : rng.int(n);
        for (let j = i; j < n - 1; j++) point(j, target(j + 1));
        dv.setUint32(ops.lenPos, n - 1, true);
        return { bytes: b, desc: `remove op ${i} of ${n}` };
      }
      if (kind === 'duplicate') {
        const i = rng.int(n);
        const j = n > 1 ? rng.int(n) : 0;
        point(j, target(i));
        return { bytes: b, desc: `op slot ${j} := op ${i} (duplicate)` };
      }
      if (kind === 'swap') {
        const i = rng.int(n);
        const j = rng.int(n);
        point(i, target(j));
        point(j, target(i));
        return { bytes: b, desc: `swap ops ${i} and ${j}` };
      }
      if (kind === 'repeatAll') {
        const i = rng.int(n);
        for (let j = 0; j < n; j++) point(j, target(i));
        return { bytes: b, desc: `every op slot := op ${i}` };
      }
      const keep = rng.int(n);
      dv.setUint32(ops.lenPos, keep, true);
      return { bytes: b, desc: `keep first ${keep} of ${n} ops` };
    }
    case 'wiring': {
      // swap / redirect op inputs and outputs, subgraph input / output
      const vs = [...model.opInputs, ...model.opOutputs, model.subgraphInputs, model.subgraphOutputs].filter((v) => v && v.length > 0);
      if (!vs.length) return { bytes: b, desc: 'no wiring' };
      const v = rng.pick(vs);
      const kind = rng.pick(['swap', 'redirect', 'cross']);
      const nT = model.tensors.length;
      if (kind === 'swap' && v.length > 1) {
        const i = rng.int(v.length);
        const j = rng.int(v.length);
        const a = dv.getInt32(v.start + 4 * i, true);
        dv.setInt32(v.start + 4 * i, dv.getInt32(v.start + 4 * j, true), true);
        dv.setInt32(v.start + 4 * j, a, true);
        return { bytes: b, desc: `${v.path}: swap [${i}] and [${j}]` };
      }
      if (kind === 'cross' && model.opInputs.length) {
        // the op reads its own output, or an op's input becomes another op's output
        const oi = rng.int(model.opInputs.length);
        const inp = model.opInputs[oi];
        const out = model.opOutputs[rng.int(model.opOutputs.length)];
        if (inp && out && inp.length && out.length) {
          const k = rng.int(inp.length);
          const a = dv.getInt32(inp.start + 4 * k, true);
          dv.setInt32(inp.start + 4 * k, dv.getInt32(out.start, true), true);
          return { bytes: b, desc: `op ${oi} inputs[${k}]: ${a} -> an op output` };
        }
      }
      const i = rng.int(v.length);
      const old = dv.getInt32(v.start + 4 * i, true);
      const nv = rng.pick([-1, -2, nT, nT + 1, 0x7fffffff, rng.int(Math.max(1, nT)), rng.int(Math.max(1, nT)), old + 1, old - 1]);
      dv.setInt32(v.start + 4 * i, nv, true);
      return { bytes: b, desc: `${v.path}[${i}]: ${old} -> ${nv}` };
    }
    case 'opcode': {
      const s = pickSite('opcode', (x) => x.tag.startsWith('OperatorCode.') || x.tag === 'Operator.opcode_index' || x.tag === 'Operator.builtin_options_type');
      if (!s) return { bytes: b, desc: 'no opcode' };
      if (s.kind === 'i32' && rng.chance(0.6)) {
        const old = dv.getInt32(s.pos, true);
        const v = rng.pick([0, 1, 3, 4, 6, 9, 22, 25, 32, 43, 114, 127, 128, 161, 200, 255, -1]);
        dv.setInt32(s.pos, v, true);
        return { bytes: b, desc: `${s.tag}@${s.pos}: ${old} -> ${v}` };
      }
      return { bytes: b, desc: editScalar(s) };
    }
    case 'type': {
      const s = pickSite('type', (x) => x.tag === 'Tensor.type');
      if (!s) return { bytes: b, desc: 'no type' };
      const old = b[s.pos];
      b[s.pos] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 16, 17, 18, 200]);
      return { bytes: b, desc: `${s.tag}@${s.pos}: ${old} -> ${b[s.pos]}` };
    }
    case 'buffer': {
      const s = pickSite('buffer', (x) => x.tag === 'Tensor.buffer' || x.tag === 'Buffer.data<length>' || x.tag === 'Buffer.offset' || x.tag === 'Buffer.size' || x.tag === 'Buffer.data<uoffset>');
      if (!s) return { bytes: b, desc: 'no buffer' };
      if (s.tag === 'Tensor.buffer') {
        const old = dv.getUint32(s.pos, true);
        const v = rng.pick([0, 1, old + 1, old - 1, model.buffers.length, model.buffers.length - 1, 0xffffffff, rng.int(model.buffers.length)]) >>> 0;
        dv.setUint32(s.pos, v, true);
        return { bytes: b, desc: `${s.tag}@${s.pos}: ${old} -> ${v}` };
      }
      return { bytes: b, desc: editScalar(s) };
    }
  }
  return { bytes: b, desc: 'none' };
}

/**
 * A mutated copy of `seed` (never modified): 1-4 mutations, the map is recomputed only when
 * a mutation changed the layout (truncation). Returns { bytes, mutations: string[] }.
 */
export function mutateTflite(seed, map, rng, count = rng.weighted([[5, 1], [3, 2], [1, 3], [1, 4]])) {
  let b = seed.slice();
  const mutations = [];
  for (let i = 0; i < count; i++) {
    const r = mutateOnce(b, map, rng);
    mutations.push(r.desc);
    if (r.bytes.length !== b.length) {
      b = r.bytes;
      break; // truncation ends the chain: the map no longer fits
    }
    b = r.bytes;
  }
  return { bytes: b, mutations };
}
