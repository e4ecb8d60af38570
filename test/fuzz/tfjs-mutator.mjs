/**
 * TF.js layers model folder mutators: model.json (layer configs, shapes, dtypes, manifest
 * paths including escapes out of the folder, sizes, missing shards) and shard bytes.
 *
 * A case is { json: string, shards: { [path]: Uint8Array | null } } relative to the model
 * folder: `shards` lists only the files that differ from the seed folder (null = deleted).
 * Escaping paths aim at ESCAPE_TARGET, a file the runner places next to (outside) the folder,
 * plus absolute paths to real files, so a read outside the folder can be detected.
 */

/** the runner creates this file one level above each case folder */
export const ESCAPE_TARGET = 'outside-secret.bin';

const ESCAPES = [
  `../${ESCAPE_TARGET}`,
  `./../${ESCAPE_TARGET}`,
  `sub/../../${ESCAPE_TARGET}`,
  `..\\${ESCAPE_TARGET}`,
  `%2e%2e/${ESCAPE_TARGET}`,
  '../../../../../../../../etc/passwd',
  '/etc/passwd',
  '/etc/hostname',
  '/proc/self/environ',
  '/dev/zero',
  '/dev/urandom',
  'file:///etc/passwd',
  'http://127.0.0.1:1/shard',
  '',
  '.',
  '..',
  '/',
  'model.json',
  'group1-shard1of1\u0000.png',
  'nonexistent-shard',
  'a'.repeat(5000),
];

const clone = (x) => JSON.parse(JSON.stringify(x));

function layersOf(j) {
  const topo = j.modelTopology;
  const mc = topo?.model_config ?? topo;
  const cfg = mc?.config;
  return Array.isArray(cfg) ? cfg : cfg?.layers;
}

const WEIRD_NUMBERS = [0, -1, 1, 2, 3, 7, 1e9, -1e9, 65536, 65537, 1e308, 0.5, -0.5, 2 ** 53, 1e-300];
const WEIRD_VALUES = [null, true, false, '', 'bogus', [], {}, [1], [0, 0], [1, 1], [-1, -1], [65536, 65536], [100000, 1], [1, 2, 3], '1', { class_name: 'X' }];

function weirdValue(rng, old) {
  if (typeof old === 'number') {
    return rng.weighted([[5, () => rng.pick(WEIRD_NUMBERS)], [2, () => old + rng.pick([-1, 1])], [1, () => old * 2], [1, () => -old], [1, () => rng.pick(WEIRD_VALUES)]])();
  }
  if (Array.isArray(old)) {
    return rng.weighted([
      [3, () => old.map((v) => (typeof v === 'number' && rng.chance(0.5) ? rng.pick(WEIRD_NUMBERS) : v))],
      [1, () => old.slice(0, rng.int(old.length + 1))],
      [1, () => [...old, rng.pick([1, null, 3])]],
      [2, () => rng.pick(WEIRD_VALUES)],
    ])();
  }
  if (typeof old === 'string') {
    return rng.pick(['relu', 'relu6', 'linear', 'softmax', 'tanh', 'sigmoid', 'same', 'valid', 'causal', 'channels_first', 'channels_last', 'float16', 'int32', '', 'bogus', null, 3]);
  }
  return rng.pick(WEIRD_VALUES);
}

const CLASS_NAMES = ['Conv2D', 'DepthwiseConv2D', 'Dense', 'BatchNormalization', 'Activation', 'ReLU', 'Softmax', 'ZeroPadding2D', 'GlobalAveragePooling2D', 'AveragePooling2D', 'MaxPooling2D', 'Reshape', 'Flatten', 'Dropout', 'InputLayer', 'Add', 'Lambda', 'Conv2DTranspose', 'SeparableConv2D', 'Bogus'];

/**
 * seed: { json: parsed model.json, shardNames: string[], shardBytes: Map<name, Uint8Array> }
 * Returns { json: string, shards: {...}, mutations: string[] }
 */
export function mutateTfjs(seed, rng) {
  const j = clone(seed.json);
  const shards = {};
  const mutations = [];
  let rawJson = null;
  const count = rng.weighted([[5, 1], [3, 2], [2, 3]]);
  for (let m = 0; m < count; m++) {
    const layers = layersOf(j);
    const manifest = Array.isArray(j.weightsManifest) ? j.weightsManifest : [];
    const kind = rng.weighted([
      [8, 'layerConfig'],
      [2, 'layerClass'],
      [2, 'layerList'],
      [2, 'inputShape'],
      [5, 'path'],
      [4, 'weightShape'],
      [2, 'weightDtype'],
      [2, 'weightName'],
      [2, 'manifestList'],
      [5, 'shardPoison'],
      [3, 'shardTruncate'],
      [2, 'shardDelete'],
      [1, 'topLevel'],
      [1, 'jsonBytes'],
      [1, 'inbound'],
    ]);
    switch (kind) {
      case 'layerConfig': {
        if (!Array.isArray(layers) || !layers.length) break;
        const i = rng.int(layers.length);
        const cfg = layers[i]?.config;
        if (!cfg || typeof cfg !== 'object') break;
        const keys = Object.keys(cfg);
        const preferred = ['kernel_size', 'strides', 'filters', 'padding', 'activation', 'use_bias', 'data_format', 'epsilon', 'units', 'depth_multiplier', 'pool_size', 'target_shape', 'axis', 'rate', 'dilation_rate', 'max_value', 'center', 'scale', 'batch_input_shape', 'dtype'];
        const key = rng.chance(0.7) ? rng.pick(preferred) : rng.pick(keys.length ? keys : preferred);
        const old = cfg[key];
        const v = rng.chance(0.1) ? undefined : weirdValue(rng, old);
        if (v === undefined) delete cfg[key];
        else cfg[key] = v;
        mutations.push(`layer ${i} (${layers[i].class_name}) config.${key}: ${JSON.stringify(old)} -> ${v === undefined ? '(deleted)' : JSON.stringify(v)}`);
        break;
      }
      case 'layerClass': {
        if (!Array.isArray(layers) || !layers.length) break;
        const i = rng.int(layers.length);
        const old = layers[i].class_name;
        layers[i].class_name = rng.pick(CLASS_NAMES);
        mutations.push(`layer ${i} class_name: ${old} -> ${layers[i].class_name}`);
        break;
      }
      case 'layerList': {
        if (!Array.isArray(layers) || !layers.length) break;
        const op = rng.pick(['remove', 'duplicate', 'swap', 'truncate', 'empty']);
        const i = rng.int(layers.length);
        const k = rng.int(layers.length);
        if (op === 'remove') layers.splice(i, 1);
        else if (op === 'duplicate') layers.splice(i, 0, clone(layers[i]));
        else if (op === 'swap') [layers[i], layers[k]] = [layers[k], layers[i]];
        else if (op === 'truncate') layers.length = i;
        else layers.length = 0;
        mutations.push(`layers: ${op} ${i}${op === 'swap' ? `,${k}` : ''}`);
        break;
      }
      case 'inputShape': {
        if (!Array.isArray(layers) || !layers.length) break;
        const cfg = layers[0].config ?? {};
        const old = cfg.batch_input_shape;
        cfg.batch_input_shape = rng.pick([
          [null, 100000, 100000, 3],
          [null, 65536, 65536, 3],
          [null, 1, 1, 3],
          [null, 224, 224, 1],
          [null, 224, 224, 4],
          [null, 0, 0, 3],
          [null, -224, 224, 3],
          [2, 224, 224, 3],
          [null, 224, 224],
          [null, 225, 223, 3],
          [null, 32, 32, 3],
          [null, 7, 7, 3],
          [null, 224.5, 224, 3],
          null,
        ]);
        mutations.push(`batch_input_shape: ${JSON.stringify(old)} -> ${JSON.stringify(cfg.batch_input_shape)}`);
        break;
      }
      case 'path': {
        if (!manifest.length) break;
        const g = rng.int(manifest.length);
        const group = manifest[g];
        if (!Array.isArray(group.paths)) break;
        const op = rng.weighted([[6, 'escape'], [1, 'remove'], [1, 'duplicate'], [1, 'swap'], [1, 'nonString']]);
        const old = JSON.stringify(group.paths);
        if (op === 'escape') group.paths[rng.int(group.paths.length)] = rng.pick(ESCAPES);
        else if (op === 'remove') group.paths = [];
        else if (op === 'duplicate') group.paths = [...group.paths, ...group.paths];
        else if (op === 'swap') {
          const h = rng.int(manifest.length);
          [group.paths, manifest[h].paths] = [manifest[h].paths, group.paths];
        } else group.paths = [rng.pick([null, 3, {}, ['x']])];
        mutations.push(`weightsManifest[${g}].paths ${op}: ${old} -> ${JSON.stringify(group.paths)}`);
        break;
      }
      case 'weightShape': {
        const ws = manifest.flatMap((g) => (Array.isArray(g.weights) ? g.weights : []));
        if (!ws.length) break;
        const w = rng.pick(ws);
        const old = w.shape;
        w.shape = rng.pick([
          [1 << 24, 1 << 24],
          [-1],
          [0],
          [],
          [1.5],
          [2 ** 31],
          [65536, 65536, 3, 3],
          null,
          '3',
          Array.isArray(old) ? [...old].reverse() : [1],
          Array.isArray(old) ? old.map((d) => d * 2) : [2],
          Array.isArray(old) ? [...old, 1] : [1],
          Array.isArray(old) ? old.slice(1) : [],
        ]);
        mutations.push(`weight ${w.name} shape: ${JSON.stringify(old)} -> ${JSON.stringify(w.shape)}`);
        break;
      }
      case 'weightDtype': {
        const ws = manifest.flatMap((g) => (Array.isArray(g.weights) ? g.weights : []));
        if (!ws.length) break;
        const w = rng.pick(ws);
        const op = rng.int(3);
        if (op === 0) w.dtype = rng.pick(['int32', 'float16', 'string', 'bool', 'complex64', 'uint8', null]);
        else if (op === 1) w.quantization = rng.pick([{ dtype: 'uint8', scale: 0.1, min: 0 }, { dtype: 'float16' }, { dtype: 'uint8', scale: NaN, min: 0 }, {}]);
        else delete w.dtype;
        mutations.push(`weight ${w.name}: dtype/quantization edit ${op} -> ${JSON.stringify({ dtype: w.dtype, quantization: w.quantization })}`);
        break;
      }
      case 'weightName': {
        const ws = manifest.flatMap((g) => (Array.isArray(g.weights) ? g.weights : []));
        if (ws.length < 2) break;
        const a = rng.pick(ws);
        const b = rng.pick(ws);
        const op = rng.int(3);
        if (op === 0) [a.name, b.name] = [b.name, a.name];
        else if (op === 1) a.name = b.name;
        else a.name = rng.pick(['', 'x', null, '__proto__', 'constructor']);
        mutations.push(`weight names edit ${op}: ${a.name} / ${b.name}`);
        break;
      }
      case 'manifestList': {
        const op = rng.pick(['remove', 'duplicate', 'swap', 'empty', 'notArray']);
        const g = rng.int(Math.max(1, manifest.length));
        if (op === 'remove') manifest.splice(g, 1);
        else if (op === 'duplicate' && manifest[g]) manifest.splice(g, 0, clone(manifest[g]));
        else if (op === 'swap' && manifest.length > 1) {
          const h = rng.int(manifest.length);
          [manifest[g], manifest[h]] = [manifest[h], manifest[g]];
        } else if (op === 'empty') j.weightsManifest = [];
        else j.weightsManifest = rng.pick([null, {}, 'x', 3]);
        mutations.push(`weightsManifest ${op} ${g}`);
        break;
      }
      case 'shardPoison': {
        const name = rng.pick(seed.shardNames);
        const base = shards[name] ?? seed.shardBytes.get(name);
        if (!base) break;
        const b = base.slice();
        const dv = new DataView(b.buffer);
        const n = b.length >> 2;
        const v = rng.pick([NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e30, 1e-45, 1e-39, 0, -1]);
        const k = rng.pick([1, 1, 4, n]);
        for (let i = 0; i < Math.min(k, n); i++) dv.setFloat32(4 * (k >= n ? i : rng.int(n)), v, true);
        shards[name] = b;
        mutations.push(`shard ${name}: ${Math.min(k, n)} floats := ${v}`);
        break;
      }
      case 'shardTruncate': {
        const name = rng.pick(seed.shardNames);
        const base = shards[name] ?? seed.shardBytes.get(name);
        if (!base) break;
        const op = rng.int(3);
        let b;
        if (op === 0) b = base.slice(0, rng.int(base.length));
        else if (op === 1) b = base.slice(0, Math.max(0, base.length - 4));
        else {
          b = new Uint8Array(base.length + rng.pick([1, 4, 4096]));
          b.set(base);
        }
        shards[name] = b;
        mutations.push(`shard ${name}: ${base.length} -> ${b.length} bytes`);
        break;
      }
      case 'shardDelete': {
        const name = rng.pick(seed.shardNames);
        shards[name] = null;
        mutations.push(`shard ${name}: deleted`);
        break;
      }
      case 'topLevel': {
        const op = rng.int(4);
        if (op === 0) delete j.modelTopology;
        else if (op === 1) delete j.weightsManifest;
        else if (op === 2 && j.modelTopology?.model_config) j.modelTopology.model_config.class_name = rng.pick(['Sequential', 'Functional', 'Model', 'Bogus', null]);
        else if (j.modelTopology?.model_config) j.modelTopology.model_config.config = rng.pick([null, [], {}, { layers: {} }]);
        mutations.push(`top level edit ${op}`);
        break;
      }
      case 'inbound': {
        if (!Array.isArray(layers) || layers.length < 2) break;
        const i = 1 + rng.int(layers.length - 1);
        layers[i].inbound_nodes = rng.pick([[], [[]], [[['nope', 0, 0, {}]]], [[[layers[0].name, 0, 0, {}]]], null, [[['x', 0, 0]], [['y', 0, 0]]]]);
        mutations.push(`layer ${i} inbound_nodes -> ${JSON.stringify(layers[i].inbound_nodes)}`);
        break;
      }
      case 'jsonBytes': {
        rawJson = JSON.stringify(j);
        const op = rng.int(3);
        if (op === 0) rawJson = rawJson.slice(0, rng.int(rawJson.length));
        else if (op === 1) {
          const p = rng.int(rawJson.length);
          rawJson = rawJson.slice(0, p) + String.fromCharCode(rawJson.charCodeAt(p) ^ (1 << rng.int(7))) + rawJson.slice(p + 1);
        } else rawJson = rng.pick(['', 'null', '[]', '{}', '"x"', '1e999', '\ufeff{}']);
        mutations.push(`model.json bytes edit ${op}`);
        break;
      }
    }
  }
  return { json: rawJson ?? JSON.stringify(j), shards, mutations };
}
