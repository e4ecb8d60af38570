/**
 * TensorFlow.js layers models (model.json + binary weight shards, as written by tfjs-converter
 * from Keras) read into the model IR. Only chains of float32 layers MobileNet-style models use:
 * Conv2D, DepthwiseConv2D, Dense, BatchNormalization (folded into the preceding conv at load),
 * Activation / ReLU / Softmax (fused), ZeroPadding2D (folded into the next conv when it equals
 * TFLite SAME padding), pooling, Reshape / Flatten, Dropout (skipped).
 *
 * Class indices: the Keras MobileNet exports have 1000 outputs without TF-slim's background
 * class, so output index k is line k + TFJS_LABEL_OFFSET of the 1001-line label files.
 *
 * No Node built-ins here: the weights come in as bytes or through a fetch callback.
 */
import { MobileNetError, invalidModel, unsupportedModel } from '../errors.js';
import { type Activation, type Graph, type Op, type Padding, type TensorInfo, convGeometry, sizeOf } from '../model/ir.js';

/** Keras index k = line k + 1 of a 1001-line (background first) label list. */
export const TFJS_LABEL_OFFSET = 1;

type Json = Record<string, unknown>;

interface ManifestEntry {
  name: string;
  shape: number[];
  offset: number; // byte offset in the concatenated weight data
}

interface ManifestGroup {
  paths: string[];
  bytes: number;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const MAX_DIM = 1 << 16;

/** Default bound on a TF.js model's weight bytes (MobileNet v1 1.0/224 float has 17 MB). */
export const DEFAULT_MAX_TFJS_WEIGHT_BYTES = 512 * 2 ** 20;

/**
 * A manifest path must name a file inside the model's folder, whoever resolves it (a file
 * system or a URL parser): relative, no '..' segment (also percent-encoded, which URL parsers
 * decode), no scheme or drive letter, no backslash, NUL, query or fragment.
 */
function checkShardPath(p: string, g: number): void {
  const bad = (why: string): never => {
    throw invalidModel(`TF.js model: weightsManifest[${g}] path ${JSON.stringify(p.slice(0, 200))} ${why}; weight files must be inside the model's folder`);
  };
  if (p === '' || p.length > 1024) bad('is empty or too long');
  if (/[\\\0?#]/.test(p) || /[\u0000-\u001f]/.test(p)) bad('holds a backslash, a control character, "?" or "#"');
  if (p.startsWith('/')) bad('is absolute');
  if (/^[a-z][a-z0-9+.-]*:/i.test(p)) bad('has a scheme or drive letter');
  for (const seg of p.split('/')) {
    if (seg === '') bad('has an empty segment');
    if (/^(\.|%2e){1,2}$/i.test(seg)) bad(`has a "${seg}" segment`);
  }
}

/** Checks the manifest and lays out every weight's byte range; nothing is allocated here. */
function readManifest(
  manifest: unknown,
  maxBytes = DEFAULT_MAX_TFJS_WEIGHT_BYTES,
): { entries: Map<string, ManifestEntry>; groups: ManifestGroup[]; bytes: number } {
  if (!Array.isArray(manifest)) throw invalidModel('TF.js model: weightsManifest must be an array of weight groups');
  const entries = new Map<string, ManifestEntry>();
  const groups: ManifestGroup[] = [];
  let offset = 0;
  manifest.forEach((group, g) => {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw invalidModel(`TF.js model: weightsManifest[${g}] needs "paths" and "weights" arrays`);
    }
    if (!group.paths.every((p) => typeof p === 'string')) throw invalidModel(`TF.js model: weightsManifest[${g}].paths must be strings`);
    if (group.paths.length === 0 && group.weights.length > 0) throw invalidModel(`TF.js model: weightsManifest[${g}] has weights but no paths`);
    for (const p of group.paths as string[]) checkShardPath(p, g);
    const start = offset;
    for (const w of group.weights) {
      if (!isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) {
        throw invalidModel(`TF.js model: weightsManifest[${g}] has a weight without a name and shape`);
      }
      const name = w.name;
      if (!w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0 && (d as number) <= 1 << 24)) {
        throw invalidModel(`TF.js model: weight "${name}" has an invalid shape ${JSON.stringify(w.shape)}`);
      }
      if (w.dtype !== 'float32') {
        throw unsupportedModel(`TF.js model: weight "${name}" has dtype ${String(w.dtype)}; only float32 weights are supported`);
      }
      if (w.quantization !== undefined) {
        throw unsupportedModel(`TF.js model: weight "${name}" is quantized (${JSON.stringify(w.quantization)}); only float32 weights are supported`);
      }
      if (entries.has(name)) throw invalidModel(`TF.js model: weight "${name}" appears twice in weightsManifest`);
      const shape = w.shape as number[];
      entries.set(name, { name, shape, offset });
      offset += sizeOf(shape) * 4;
      // a bound before anything is fetched or allocated (shapes alone could describe petabytes)
      if (offset > maxBytes) {
        throw invalidModel(`TF.js model: weightsManifest describes more than ${maxBytes} bytes of weights (at "${name}"), more than the limit (option maxModelBytes)`);
      }
    }
    groups.push({ paths: group.paths as string[], bytes: offset - start });
  });
  return { entries, groups, bytes: offset };
}

/** The layer list and its input, checked to be a single chain. */
function readTopology(modelJson: Json): Json[] {
  const topo = modelJson.modelTopology;
  if (!isObject(topo)) throw invalidModel('TF.js model: modelTopology is missing (is this a layers model.json?)');
  // tfjs-converter nests Keras' model config; tfjs' own save format does not
  const model = isObject(topo.model_config) ? topo.model_config : topo;
  const cls = model.class_name;
  const config = model.config;
  let layers: unknown;
  if (cls === 'Sequential') {
    layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  } else if (cls === 'Model' || cls === 'Functional') {
    layers = isObject(config) ? config.layers : undefined;
  } else {
    throw unsupportedModel(`TF.js model: model class ${JSON.stringify(cls)} is not supported (only Sequential and Model/Functional chains)`);
  }
  if (!Array.isArray(layers) || layers.length === 0) throw invalidModel('TF.js model: the model config has no layers');
  const list = layers.map((l, i) => {
    if (!isObject(l) || typeof l.class_name !== 'string' || !isObject(l.config)) throw invalidModel(`TF.js model: layer #${i} has no class_name/config`);
    return l;
  });
  if (cls !== 'Sequential') checkChain(list, config as Json);
  return list;
}

const layerName = (l: Json): string => String(l.name ?? (l.config as Json).name ?? l.class_name);

/** Functional models: each layer must read exactly the previous layer's single output. */
function checkChain(layers: Json[], config: Json): void {
  const one = (v: unknown) => Array.isArray(v) && v.length === 1;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    const nodes = l.inbound_nodes;
    if (i === 0) {
      if (Array.isArray(nodes) && nodes.length > 0) {
        throw unsupportedModel(`TF.js model: layer "${layerName(l)}" is first but has inputs; only chains starting at the input are supported`);
      }
      continue;
    }
    const prev = layerName(layers[i - 1]);
    if (!one(nodes)) {
      throw unsupportedModel(`TF.js model: layer "${layerName(l)}" is used ${Array.isArray(nodes) ? nodes.length : 0} times; only simple chains are supported`);
    }
    const inbound = (nodes as unknown[])[0];
    if (!one(inbound)) {
      throw unsupportedModel(`TF.js model: layer "${layerName(l)}" has ${Array.isArray(inbound) ? inbound.length : 0} inputs; only single-input chains are supported`);
    }
    const src = (inbound as unknown[])[0];
    if (!Array.isArray(src) || src[0] !== prev || src[1] !== 0 || src[2] !== 0) {
      throw unsupportedModel(`TF.js model: layer "${layerName(l)}" reads ${JSON.stringify(src)}, not the previous layer "${prev}"; only chains are supported`);
    }
  }
  const last = layerName(layers[layers.length - 1]);
  for (const key of ['input_layers', 'output_layers'] as const) {
    const io = config[key];
    if (io === undefined) continue;
    const want = key === 'input_layers' ? layerName(layers[0]) : last;
    if (!Array.isArray(io) || io.length !== 1 || !Array.isArray(io[0]) || io[0][0] !== want) {
      throw unsupportedModel(`TF.js model: ${key} must be the single layer "${want}", got ${JSON.stringify(io)}`);
    }
  }
}

/** A pair from a Keras int-or-tuple option. */
function pair(v: unknown, what: string, layer: string): [number, number] {
  const arr = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 2 || !arr.every((d) => Number.isInteger(d) && d >= 1 && d <= MAX_DIM)) {
    throw invalidModel(`TF.js model: layer "${layer}" has an invalid ${what} ${JSON.stringify(v)}`);
  }
  return [arr[0], arr[1]];
}

function activationOf(name: unknown, layer: string): Activation | 'softmax' {
  const a = isObject(name) ? name.class_name : name; // serialized activation objects
  switch (a) {
    case undefined:
    case null:
    case 'linear':
      return 'none';
    case 'relu':
      return 'relu';
    case 'relu6':
      return 'relu6';
    case 'softmax':
      return 'softmax';
    default:
      throw unsupportedModel(`TF.js model: layer "${layer}" uses activation ${JSON.stringify(a)}; supported: linear, relu, relu6, softmax`);
  }
}

function checkChannelsLast(cfg: Json, layer: string): void {
  if (cfg.data_format !== undefined && cfg.data_format !== 'channels_last') {
    throw unsupportedModel(`TF.js model: layer "${layer}" uses data_format ${JSON.stringify(cfg.data_format)}; only channels_last is supported`);
  }
}

/**
 * Reads a TF.js layers model. `weightData` is the weight shards concatenated in manifest order.
 * Output: a float32 Graph, batch norm folded, classes as in the file (see TFJS_LABEL_OFFSET).
 */
export function readTfjsLayers(modelJson: unknown, weightData: Uint8Array): Graph {
  if (!isObject(modelJson)) throw invalidModel('TF.js model: model.json must be a JSON object');
  if (!(weightData instanceof Uint8Array)) throw invalidModel('TF.js model: weight data must be a Uint8Array');
  const layers = readTopology(modelJson);
  // the weights are in memory already: no size bound here beyond matching them
  const { entries, bytes } = readManifest(modelJson.weightsManifest, Number.MAX_SAFE_INTEGER);
  if (bytes !== weightData.byteLength) {
    throw invalidModel(`TF.js model: weight data is ${weightData.byteLength} bytes but weightsManifest describes ${bytes}`);
  }
  // one aligned copy so every weight is a Float32Array view (wasm hosts are little-endian)
  const all = new Float32Array(weightData.slice().buffer);

  const weight = (layer: string, param: string, expected: number[]): Float32Array => {
    const name = `${layer}/${param}`;
    const e = entries.get(name) ?? entries.get(`${name}:0`);
    if (!e) throw invalidModel(`TF.js model: layer "${layer}": weight "${name}" is missing from weightsManifest`);
    if (e.shape.length !== expected.length || e.shape.some((d, i) => d !== expected[i])) {
      throw invalidModel(`TF.js model: layer "${layer}": weight "${name}" has shape ${fmt(e.shape)}, expected ${fmt(expected)}`);
    }
    return all.subarray(e.offset / 4, e.offset / 4 + sizeOf(expected));
  };

  // --- input
  let first = 0;
  const inputCfg = layers[0].config as Json;
  if (layers[0].class_name === 'InputLayer') first = 1;
  const inShape = inputCfg.batch_input_shape ?? inputCfg.batch_shape;
  if (!Array.isArray(inShape) || inShape.length !== 4) {
    throw unsupportedModel(`TF.js model: input shape ${JSON.stringify(inShape)} is not [batch, height, width, channels]`);
  }
  const [, inH, inW, inC] = inShape;
  if (![inH, inW, inC].every((d) => Number.isInteger(d) && d >= 1 && d <= MAX_DIM)) {
    throw unsupportedModel(`TF.js model: input shape ${JSON.stringify(inShape)} needs a fixed height, width and channels`);
  }
  if (inputCfg.dtype !== undefined && inputCfg.dtype !== 'float32') {
    throw unsupportedModel(`TF.js model: input dtype ${JSON.stringify(inputCfg.dtype)}; only float32 is supported`);
  }
  const input: TensorInfo = { name: layerName(layers[0]), shape: [1, inH, inW, inC], dtype: 'float32' };

  const ops: Op[] = [];
  let cur = input;
  // explicit padding from a ZeroPadding2D, waiting for the conv it belongs to: [top, bottom, left, right]
  let pendingPad: { layer: string; pads: [number, number, number, number] } | null = null;
  const tensor = (name: string, shape: number[]): TensorInfo => ({ name, shape, dtype: 'float32' });
  const spatial = (layer: string) => {
    if (cur.shape.length !== 4) throw unsupportedModel(`TF.js model: layer "${layer}" needs a [h, w, c] input, got ${fmt(cur.shape.slice(1))}`);
    return cur.shape;
  };
  const reshapeTo = (shape: number[], name: string) => {
    if (sizeOf(shape) !== sizeOf(cur.shape)) {
      throw invalidModel(`TF.js model: layer "${name}" reshapes ${fmt(cur.shape.slice(1))} to ${fmt(shape.slice(1))}: sizes differ`);
    }
    if (shape.length === cur.shape.length && shape.every((d, i) => d === cur.shape[i])) return;
    const out = tensor(name, shape);
    ops.push({ op: 'reshape', input: cur, output: out });
    cur = out;
  };
  /** the op that produced `cur`, when a BN or activation may still be folded into it */
  const foldTarget = () => {
    const last = ops[ops.length - 1];
    if (last && 'output' in last && last.output === cur && (last.op === 'conv2d' || last.op === 'depthwise_conv2d' || last.op === 'fully_connected')) return last;
    return null;
  };
  const applyActivation = (a: Activation | 'softmax', layer: string) => {
    if (a === 'none') return;
    if (a === 'softmax') {
      const shape = cur.shape;
      if (shape.length === 4 && (shape[1] !== 1 || shape[2] !== 1)) {
        throw unsupportedModel(`TF.js model: layer "${layer}" applies softmax over a ${fmt(shape.slice(1))} map; only vectors are supported`);
      }
      reshapeTo([1, shape[shape.length - 1]], `${layer}/flatten`);
      const out = tensor(layer, [...cur.shape]);
      ops.push({ op: 'softmax', input: cur, output: out, beta: 1 });
      cur = out;
      return;
    }
    const target = foldTarget();
    if (!target || target.activation !== 'none') {
      throw unsupportedModel(`TF.js model: layer "${layer}" applies ${a} to something other than a linear Conv2D/DepthwiseConv2D/Dense output`);
    }
    target.activation = a;
  };

  for (let li = first; li < layers.length; li++) {
    const l = layers[li];
    const cls = l.class_name as string;
    const name = layerName(l);
    const cfg = l.config as Json;
    if (pendingPad && cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') {
      throw unsupportedModel(`TF.js model: ZeroPadding2D "${pendingPad.layer}" is followed by ${cls} "${name}"; it can only be folded into a convolution`);
    }
    switch (cls) {
      case 'InputLayer':
        throw unsupportedModel(`TF.js model: InputLayer "${name}" in the middle of the model`);
      case 'Dropout':
      case 'SpatialDropout2D':
        break; // inference: identity
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        checkChannelsLast(cfg, name);
        const [, H, W, C] = spatial(name);
        const [kh, kw] = pair(cfg.kernel_size, 'kernel_size', name);
        const [sh, sw] = pair(cfg.strides ?? 1, 'strides', name);
        const [dh, dw] = pair(cfg.dilation_rate ?? 1, 'dilation_rate', name);
        if (dh !== 1 || dw !== 1) throw unsupportedModel(`TF.js model: layer "${name}" uses dilation ${fmt([dh, dw])}; only 1 is supported`);
        if ((cfg.groups ?? 1) !== 1) throw unsupportedModel(`TF.js model: layer "${name}" uses grouped convolution`);
        const kerasPadding = cfg.padding;
        if (kerasPadding !== 'same' && kerasPadding !== 'valid') {
          throw unsupportedModel(`TF.js model: layer "${name}" has padding ${JSON.stringify(kerasPadding)}; only same/valid are supported`);
        }
        let padding: Padding = kerasPadding;
        if (pendingPad) {
          padding = foldZeroPadding(pendingPad, name, kerasPadding, H, W, [kh, kw], [sh, sw]);
          pendingPad = null;
        }
        const gy = convGeometry(H, kh, sh, padding);
        const gx = convGeometry(W, kw, sw, padding);
        if (gy.out < 1 || gx.out < 1) throw invalidModel(`TF.js model: layer "${name}": kernel ${fmt([kh, kw])} does not fit the ${H}x${W} input`);
        const activation = activationOf(cfg.activation, name);
        const useBias = cfg.use_bias !== false;
        let op: Op;
        if (cls === 'Conv2D') {
          const O = cfg.filters;
          if (!Number.isInteger(O) || (O as number) < 1 || (O as number) > MAX_DIM) throw invalidModel(`TF.js model: layer "${name}" has invalid filters ${JSON.stringify(O)}`);
          const o = O as number;
          const hwio = weight(name, 'kernel', [kh, kw, C, o]);
          // HWIO -> OHWI
          const ohwi = new Float32Array(hwio.length);
          const taps = kh * kw;
          for (let t = 0; t < taps; t++)
            for (let i = 0; i < C; i++)
              for (let oc = 0; oc < o; oc++) ohwi[(oc * taps + t) * C + i] = hwio[(t * C + i) * o + oc];
          const bias = useBias ? Float32Array.from(weight(name, 'bias', [o])) : new Float32Array(o);
          const out = tensor(name, [1, gy.out, gx.out, o]);
          op = { op: 'conv2d', input: cur, output: out, filter: { data: ohwi, shape: [o, kh, kw, C], dtype: 'float32' }, bias, strides: [sh, sw], padding, activation: 'none' };
        } else {
          const mult = cfg.depth_multiplier ?? 1;
          if (mult !== 1) throw unsupportedModel(`TF.js model: layer "${name}" has depth_multiplier ${JSON.stringify(mult)}; only 1 is supported`);
          // HWC1 and 1HWC are the same element order
          const filter = Float32Array.from(weight(name, 'depthwise_kernel', [kh, kw, C, 1]));
          const bias = useBias ? Float32Array.from(weight(name, 'bias', [C])) : new Float32Array(C);
          const out = tensor(name, [1, gy.out, gx.out, C]);
          op = { op: 'depthwise_conv2d', input: cur, output: out, filter: { data: filter, shape: [1, kh, kw, C], dtype: 'float32' }, bias, strides: [sh, sw], padding, activation: 'none' };
        }
        ops.push(op);
        cur = op.output;
        applyActivation(activation, name);
        break;
      }
      case 'Dense': {
        const I = sizeOf(cur.shape);
        if (cur.shape.length === 4 && (cur.shape[1] !== 1 || cur.shape[2] !== 1)) {
          throw unsupportedModel(`TF.js model: Dense layer "${name}" on a ${fmt(cur.shape.slice(1))} map (add a Flatten)`);
        }
        reshapeTo([1, I], `${name}/flatten`);
        const O = cfg.units;
        if (!Number.isInteger(O) || (O as number) < 1 || (O as number) > 1 << 20) throw invalidModel(`TF.js model: layer "${name}" has invalid units ${JSON.stringify(O)}`);
        const o = O as number;
        const io = weight(name, 'kernel', [I, o]);
        const oi = new Float32Array(io.length);
        for (let i = 0; i < I; i++) for (let oc = 0; oc < o; oc++) oi[oc * I + i] = io[i * o + oc];
        const bias = cfg.use_bias !== false ? Float32Array.from(weight(name, 'bias', [o])) : new Float32Array(o);
        const out = tensor(name, [1, o]);
        ops.push({ op: 'fully_connected', input: cur, output: out, filter: { data: oi, shape: [o, I], dtype: 'float32' }, bias, activation: 'none' });
        cur = out;
        applyActivation(activationOf(cfg.activation, name), name);
        break;
      }
      case 'BatchNormalization': {
        const C = cur.shape[cur.shape.length - 1];
        const axis = cfg.axis ?? -1;
        const axisOk = axis === -1 || axis === cur.shape.length - 1 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === cur.shape.length - 1));
        if (!axisOk) throw unsupportedModel(`TF.js model: BatchNormalization "${name}" normalizes axis ${JSON.stringify(axis)}; only the channel axis is supported`);
        const target = foldTarget();
        if (!target || target.activation !== 'none') {
          throw unsupportedModel(`TF.js model: BatchNormalization "${name}" must directly follow a linear Conv2D, DepthwiseConv2D or Dense to be folded`);
        }
        const eps = typeof cfg.epsilon === 'number' ? cfg.epsilon : 1e-3;
        const gamma = cfg.scale === false ? null : weight(name, 'gamma', [C]);
        const beta = cfg.center === false ? null : weight(name, 'beta', [C]);
        const mean = weight(name, 'moving_mean', [C]);
        const variance = weight(name, 'moving_variance', [C]);
        foldBatchNorm(target, gamma, beta, mean, variance, eps, name);
        break;
      }
      case 'Activation':
        applyActivation(activationOf(cfg.activation, name), name);
        break;
      case 'ReLU': {
        const max = cfg.max_value ?? null;
        if ((cfg.negative_slope ?? 0) !== 0 || (cfg.threshold ?? 0) !== 0 || (max !== null && max !== 6)) {
          throw unsupportedModel(`TF.js model: ReLU "${name}" with max_value ${JSON.stringify(max)}, negative_slope ${JSON.stringify(cfg.negative_slope)}, threshold ${JSON.stringify(cfg.threshold)}; only relu and relu6 are supported`);
        }
        applyActivation(max === 6 ? 'relu6' : 'relu', name);
        break;
      }
      case 'Softmax': {
        const axis = cfg.axis ?? -1;
        if (axis !== -1 && axis !== cur.shape.length - 1) throw unsupportedModel(`TF.js model: Softmax "${name}" over axis ${JSON.stringify(axis)}`);
        applyActivation('softmax', name);
        break;
      }
      case 'ZeroPadding2D': {
        checkChannelsLast(cfg, name);
        spatial(name);
        pendingPad = { layer: name, pads: zeroPads(cfg.padding, name) };
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'AveragePooling2D': {
        checkChannelsLast(cfg, name);
        const [, H, W, C] = spatial(name);
        let filterSize: [number, number] = [H, W];
        let strides: [number, number] = [1, 1];
        let padding: Padding = 'valid';
        if (cls === 'AveragePooling2D') {
          filterSize = pair(cfg.pool_size ?? 2, 'pool_size', name);
          strides = pair(cfg.strides ?? filterSize, 'strides', name);
          if (cfg.padding !== 'same' && cfg.padding !== 'valid' && cfg.padding !== undefined) {
            throw unsupportedModel(`TF.js model: layer "${name}" has padding ${JSON.stringify(cfg.padding)}`);
          }
          padding = (cfg.padding as Padding | undefined) ?? 'valid';
        }
        const gy = convGeometry(H, filterSize[0], strides[0], padding);
        const gx = convGeometry(W, filterSize[1], strides[1], padding);
        if (gy.out < 1 || gx.out < 1) throw invalidModel(`TF.js model: layer "${name}": pool ${fmt(filterSize)} does not fit the ${H}x${W} input`);
        const out = tensor(name, [1, gy.out, gx.out, C]);
        ops.push({ op: 'average_pool2d', input: cur, output: out, filterSize, strides, padding, activation: 'none' });
        cur = out;
        break;
      }
      case 'Reshape': {
        const target = cfg.target_shape;
        if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d) && d >= 1)) {
          throw unsupportedModel(`TF.js model: Reshape "${name}" has target_shape ${JSON.stringify(target)}; only fixed positive sizes are supported`);
        }
        if (target.length !== 1 && target.length !== 3) {
          throw unsupportedModel(`TF.js model: Reshape "${name}" to ${fmt(target)}: only [n] and [h, w, c] are supported`);
        }
        reshapeTo([1, ...target], name);
        break;
      }
      case 'Flatten':
        reshapeTo([1, sizeOf(cur.shape)], name);
        break;
      default:
        throw unsupportedModel(`TF.js model: layer "${name}" has class ${cls}, which is not supported`);
    }
  }
  if (pendingPad) throw unsupportedModel(`TF.js model: ZeroPadding2D "${pendingPad.layer}" ends the model`);
  if (ops.length === 0) throw invalidModel('TF.js model: no layers after the input');
  return { ops, input, output: cur, source: 'tfjs' };
}

/** Keras ZeroPadding2D's padding option as [top, bottom, left, right]. */
function zeroPads(p: unknown, layer: string): [number, number, number, number] {
  const ok = (d: unknown): d is number => Number.isInteger(d) && (d as number) >= 0 && (d as number) <= MAX_DIM;
  if (ok(p)) return [p, p, p, p];
  if (Array.isArray(p) && p.length === 2 && ok(p[0]) && ok(p[1])) return [p[0], p[0], p[1], p[1]];
  if (Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(ok))) {
    return [p[0][0], p[0][1], p[1][0], p[1][1]];
  }
  throw invalidModel(`TF.js model: ZeroPadding2D "${layer}" has invalid padding ${JSON.stringify(p)}`);
}

/**
 * The IR has only SAME and VALID padding, so ZeroPadding2D + VALID conv is accepted when it
 * computes exactly what TFLite SAME would (e.g. Keras' ((0,1),(0,1)) before stride-2 convs),
 * or pads nothing. Other explicit paddings are rejected.
 */
function foldZeroPadding(
  pad: { layer: string; pads: [number, number, number, number] },
  conv: string,
  convPadding: Padding,
  H: number,
  W: number,
  k: [number, number],
  s: [number, number],
): Padding {
  const [top, bottom, left, right] = pad.pads;
  if (top + bottom + left + right === 0) return convPadding;
  const matchesSame = (size: number, before: number, after: number, kk: number, ss: number) => {
    const same = convGeometry(size, kk, ss, 'same');
    const valid = convGeometry(size + before + after, kk, ss, 'valid');
    return convPadding === 'valid' && same.padBefore === before && same.out === valid.out;
  };
  if (matchesSame(H, top, bottom, k[0], s[0]) && matchesSame(W, left, right, k[1], s[1])) return 'same';
  throw unsupportedModel(
    `TF.js model: ZeroPadding2D "${pad.layer}" pads [top ${top}, bottom ${bottom}, left ${left}, right ${right}] before ${convPadding} conv "${conv}"; ` +
      'the IR has no explicit padding and this is not equivalent to SAME',
  );
}

/** w' = w * gamma / sqrt(var + eps) per output channel; b' = beta + (b - mean) * gamma / sqrt(var + eps). */
function foldBatchNorm(
  op: Extract<Op, { op: 'conv2d' | 'depthwise_conv2d' | 'fully_connected' }>,
  gamma: Float32Array | null,
  beta: Float32Array | null,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  layer: string,
): void {
  const w = op.filter.data as Float32Array;
  const b = op.bias as Float32Array;
  const C = b.length;
  const k = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const v = variance[c] + eps;
    if (!(v > 0)) throw invalidModel(`TF.js model: BatchNormalization "${layer}" has variance + epsilon ${v} <= 0 in channel ${c}`);
    k[c] = (gamma ? gamma[c] : 1) / Math.sqrt(v);
    b[c] = (beta ? beta[c] : 0) + (b[c] - mean[c]) * k[c];
  }
  if (op.op === 'depthwise_conv2d') {
    for (let j = 0; j < w.length; j++) w[j] *= k[j % C]; // 1HWC: channel is the last axis
  } else {
    const per = w.length / C; // OHWI / [O, I]: channel is the first axis
    for (let c = 0; c < C; c++) for (let j = c * per; j < (c + 1) * per; j++) w[j] *= k[c];
  }
}

export interface TfjsLoadOptions {
  /** refuse a model whose manifest describes more weight bytes than this (default 512 MiB) */
  maxModelBytes?: number;
}

/**
 * Fetches one weight file. `path` has passed checkShardPath (relative, inside the model's
 * folder); `maxBytes` is the most its group can still hold, so a fetcher can refuse a larger
 * file before reading it (the Node fetcher does).
 */
export type ShardFetcher = (path: string, limits: { maxBytes: number }) => Promise<Uint8Array>;

/**
 * Fetches the weight shards named by the manifest through `fetchFile` (paths relative to
 * model.json, as written) and reads the model. Every path is checked before any fetch, and
 * each group's bytes against the manifest as they arrive.
 */
export async function loadTfjsLayers(modelJson: unknown, fetchFile: ShardFetcher, options: TfjsLoadOptions = {}): Promise<Graph> {
  if (!isObject(modelJson)) throw invalidModel('TF.js model: model.json must be a JSON object');
  if (typeof fetchFile !== 'function') throw new MobileNetError('INVALID_OPTION', `loadTfjsLayers needs a function that fetches weight files, got ${fetchFile === null ? 'null' : typeof fetchFile}`);
  const maxBytes = options?.maxModelBytes ?? DEFAULT_MAX_TFJS_WEIGHT_BYTES;
  if (!(typeof maxBytes === 'number' && maxBytes > 0)) throw new MobileNetError('INVALID_OPTION', `maxModelBytes must be a positive number, got ${String(maxBytes)}`);
  const { groups, bytes } = readManifest(modelJson.weightsManifest, maxBytes);
  // one group after another, so a lying group is refused before the next is read
  const shards: Uint8Array[][] = [];
  for (const g of groups) {
    const parts: Uint8Array[] = [];
    let got = 0;
    for (const p of g.paths) {
      let data: Uint8Array;
      try {
        data = await fetchFile(p, { maxBytes: g.bytes - got });
      } catch (e) {
        if (e instanceof MobileNetError) throw e;
        throw new MobileNetError('IO', `TF.js model: cannot read weight file "${p}": ${(e as Error)?.message ?? String(e)}`);
      }
      if (Object.prototype.toString.call(data) !== '[object Uint8Array]') throw invalidModel(`TF.js model: weight file "${p}" did not load as bytes`);
      data = new Uint8Array(data); // a copy by the array's own length: a subclass' getters cannot lie
      got += data.byteLength;
      if (got > g.bytes) {
        throw invalidModel(`TF.js model: weight files ${g.paths.join(', ')} hold more than the ${g.bytes} bytes the manifest describes`);
      }
      parts.push(data);
    }
    if (got !== g.bytes) {
      throw invalidModel(`TF.js model: weight files ${g.paths.join(', ')} hold ${got} bytes but the manifest describes ${g.bytes}`);
    }
    shards.push(parts);
  }
  const all = new Uint8Array(bytes);
  let at = 0;
  for (const parts of shards) for (const d of parts) {
    all.set(d, at);
    at += d.byteLength;
  }
  return readTfjsLayers(modelJson, all);
}
