/**
 * A model's packed form, cached so that a second load skips planning and packing: the arena's
 * constant bytes, the arena layout and the schedule (per step: the ops it runs and the kernel
 * calls it makes, recorded once with their arguments). A load that finds an entry copies the
 * bytes into wasm memory and replays the calls; one that does not plans and packs as always and
 * stores an entry. Issue 11 item 3: packing was the largest part of a cold load (bench/STARTUP.md).
 *
 * Safety: an entry is bound to the model's bytes (sha256), this library's version and packing
 * format, the kernel ABI and the kernel build's file and flavour (its static data size, which
 * places the arena, is in the entry and checked). It is read
 * back as untrusted bytes: its length fields, its own sha256 (a torn or truncated write), every
 * number in it and its fit to the graph and the build are checked; anything off and the load
 * ignores it, packs, and replaces it. A replayed call is a call of an exported kernel with integer
 * or float arguments into the model's own wasm memory (bounds-checked by the engine, a trap
 * becomes MobileNetError), so even a forged entry can only make outputs wrong, like a forged model.
 *
 * Only steps whose run is nothing but kernel calls fixed at load can be recorded (CALL_ONLY_KERNELS);
 * a model with any other step (ADD's JS path, detection post-processing) gets no entry.
 */
import type { Step, Plan } from './plan.js';
import { arenaBase, type ArenaLayout } from './arena.js';
import type { RunPointers } from '../ops/types.js';
import { KERNEL_ABI, type KernelExports } from './kernel-abi.js';
import type { Graph } from '../model/ir.js';
import type { Flavour, Kernels } from './kernels.js';
import { kernelSetsOf, type KernelSet } from './kernel-sets.js';
import { validateGraph } from '../model/validate.js';
import { checkFloatNumerics } from './numerics.js';

/** Where packed models are kept: a key (letters, digits, '.', '-', '_') to bytes. */
export interface PackCacheStore {
  get(key: string): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  put(key: string, bytes: Uint8Array): Promise<void> | void;
  /**
   * SHA-256 of bytes, when the host has a faster one than WebCrypto's (the default): in Node 20
   * node:crypto hashes a 4 MB model in ~3 ms where crypto.subtle took ~25 ms (bench/STARTUP.md)
   */
  sha256?(bytes: Uint8Array): Promise<Uint8Array> | Uint8Array;
}

type Digest = (bytes: Uint8Array) => Promise<Uint8Array | undefined>;

/** the store's SHA-256, else WebCrypto's; undefined where there is neither (a page on plain http) */
export function digestOf(store: PackCacheStore): Digest | undefined {
  if (typeof store.sha256 === 'function') return async (bytes) => new Uint8Array(await store.sha256!(bytes));
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!subtle) return undefined;
  return async (bytes) => new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** the version of this package (package.json; test/runtime/pack-cache.test.ts checks they agree) */
export const LIBRARY_VERSION = '0.1.0';
/** bump when the entry layout or what a prepared op records changes */
export const PACK_FORMAT = 2;
const MAGIC = 0x504e4d4d; // 'MMNP'
const HEADER_BYTES = 16;
const DIGEST_BYTES = 32;

/**
 * The prepared ops (PreparedOp.kernel) whose run only issues kernel calls whose arguments are
 * fixed at load: recording them once replays them exactly. Ops that read tensors in JS or whose
 * calls depend on the data are absent.
 */
const CALL_ONLY_KERNELS = new Set([
  'q8_gemm', 'q8_conv', 'q8_im2col+gemm16', 'q8_dwconv', 'q8_dw+gemm16', 'q8_avgpool', 'q8_softmax', 'q8_mean_hw',
  'f32_gemm', 'f32_convgemm', 'f32_dwconv', 'f32_dwpw', 'f32_avgpool', 'f32_softmax', 'f32_mean_hw', 'f32_logistic', 'pad4d',
]);

type Call = [name: string, ...args: number[]];

interface EntryStep {
  ops: number[];
  inputs: number[];
  outputs: number[];
  /** null: a reshape (no data moves) */
  kernel: string | null;
  macs: number;
  scratchBytes: number;
  calls: Call[];
}

interface Entry {
  key: string;
  heapBase: number;
  arena: ArenaLayout;
  offsets: [number, number][];
  activationBytes: number;
  maxActivationBytes: number;
  scratchBytes: number;
  macs: number;
  steps: EntryStep[];
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** a short digest of the kernel ABI table: a change of any kernel's arguments changes every key */
function abiTag(): string {
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(KERNEL_ABI)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The entry's key for these model bytes and this kernel build (known before it is instantiated:
 * the build's static data size, which places the arena, is checked inside the entry); undefined where the engine has no
 * SHA-256 (WebCrypto needs a secure context in browsers): then nothing is cached.
 */
export async function packCacheKey(sha256: Digest, model: Uint8Array, buildFile: string, flavour: string): Promise<string | undefined> {
  const digest = await sha256(model);
  if (digest?.length !== DIGEST_BYTES) return undefined;
  const build = buildFile.replace(/\.wasm$/, '').replace(/[^\w.-]/g, '_');
  return `${hex(digest)}-${build}-${flavour}-v${LIBRARY_VERSION}-p${PACK_FORMAT}-a${abiTag()}`;
}

/**
 * The calls each step makes, recorded by running its prepared closure against stand-in kernels.
 * undefined when a step is not CALL_ONLY_KERNELS (the model is then not cached).
 */
export function recordCalls(steps: readonly Step[], pointers: readonly RunPointers[], memory: KernelExports['memory']): Call[][] | undefined {
  const out: Call[][] = [];
  for (let i = 0; i < steps.length; i++) {
    const p = steps[i].prepared;
    if (!p) {
      out.push([]);
      continue;
    }
    if (!CALL_ONLY_KERNELS.has(p.kernel)) return undefined;
    const calls: Call[] = [];
    const recorder = new Proxy({} as KernelExports, {
      get: (_, name) => (name === 'memory' ? memory : (...args: number[]) => void calls.push([String(name), ...args])),
    });
    p.run(recorder, pointers[i]);
    out.push(calls);
  }
  return out;
}

/** The bytes of an entry: header, JSON description, the constants, then the sha256 of all before it. */
export async function encodeEntry(sha256: Digest, key: string, heapBase: number, plan: Plan, arena: ArenaLayout, calls: Call[][], constants: Uint8Array): Promise<Uint8Array | undefined> {
  const entry: Entry = {
    key,
    heapBase,
    arena,
    offsets: [...plan.offsets],
    activationBytes: plan.activationBytes,
    maxActivationBytes: plan.maxActivationBytes,
    scratchBytes: plan.scratchBytes,
    macs: plan.macs,
    steps: plan.steps.map((s, i) => ({
      ops: s.ops.map((op) => plan.graph.ops.indexOf(op)),
      inputs: s.inputs,
      outputs: s.outputs,
      kernel: s.prepared?.kernel ?? null,
      macs: s.prepared?.macs ?? 0,
      scratchBytes: s.prepared?.scratchBytes ?? 0,
      calls: calls[i],
    })),
  };
  const json = new TextEncoder().encode(JSON.stringify(entry, (_, v) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${Object.is(v, -0) ? '-0' : v}` : v)));
  const constAt = align16(HEADER_BYTES + json.length);
  const body = new Uint8Array(constAt + constants.length);
  const head = new DataView(body.buffer);
  head.setUint32(0, MAGIC, true);
  head.setUint32(4, PACK_FORMAT, true);
  head.setUint32(8, json.length, true);
  head.setUint32(12, constants.length, true);
  body.set(json, HEADER_BYTES);
  body.set(constants, constAt);
  const digest = await sha256(body);
  if (digest?.length !== DIGEST_BYTES) return undefined;
  const bytes = new Uint8Array(body.length + DIGEST_BYTES);
  bytes.set(body);
  bytes.set(digest, body.length);
  return bytes;
}

const align16 = (n: number) => (n + 15) & ~15;
/** JSON has no Infinity, NaN or -0 (a float kernel's clamp without an activation is +-Infinity): kept as '#Infinity' etc. */
const NON_FINITE = /^#(-?Infinity|NaN|-0)$/;

/** What a valid entry gives the load: the plan (steps replaying their calls), the arena layout and the constant bytes. */
export interface PackedModel {
  plan: Plan;
  arena: ArenaLayout;
  constants: Uint8Array;
}

/**
 * Checks an entry's bytes against the key, the graph (validated) and the build; undefined if
 * anything is off (the caller then packs as usual). Never throws.
 */
export async function decodeEntry(sha256: Digest, bytes: unknown, key: string, graph: Plan['graph'], heapBase: number, exports: KernelExports): Promise<PackedModel | undefined> {
  try {
    if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_BYTES + DIGEST_BYTES) return undefined;
    const head = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
    if (head.getUint32(0, true) !== MAGIC || head.getUint32(4, true) !== PACK_FORMAT) return undefined;
    const jsonLength = head.getUint32(8, true);
    const constLength = head.getUint32(12, true);
    const constAt = align16(HEADER_BYTES + jsonLength);
    if (bytes.length !== constAt + constLength + DIGEST_BYTES) return undefined;
    const body = bytes.subarray(0, constAt + constLength);
    const digest = await sha256(body);
    const stored = bytes.subarray(body.length);
    if (digest?.length !== DIGEST_BYTES || digest.some((b, i) => b !== stored[i])) return undefined;
    const entry = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + jsonLength)), (_, v) => (typeof v === 'string' && NON_FINITE.test(v) ? Number(v.slice(1)) : v)) as Entry;
    if (!entryFits(entry, key, graph, heapBase, constLength, exports)) return undefined;
    const plan: Plan = {
      steps: entry.steps.map((s) => stepOf(s, graph)),
      offsets: new Map(entry.offsets),
      activationBytes: entry.activationBytes,
      maxActivationBytes: entry.maxActivationBytes,
      scratchBytes: entry.scratchBytes,
      macs: entry.macs,
      graph,
    };
    return { plan, arena: entry.arena, constants: bytes.subarray(constAt, constAt + constLength) };
  } catch {
    return undefined;
  }
}

function stepOf(s: EntryStep, graph: Plan['graph']): Step {
  const ops = s.ops.map((i) => graph.ops[i]);
  const calls = s.calls.map(([name, ...args]) => ({ name: name as keyof KernelExports, args }));
  const prepared = s.kernel === null ? null : {
    kernel: s.kernel,
    constants: [],
    scratchBytes: s.scratchBytes,
    macs: s.macs,
    run(k: KernelExports) {
      for (const c of calls) (k[c.name] as (...a: number[]) => void)(...c.args);
    },
  };
  return { op: ops[ops.length - 1], ops, prepared, inputs: s.inputs, outputs: s.outputs };
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const counts = (v: unknown): v is number[] => Array.isArray(v) && v.every(isCount);

/** every field the load will use, checked for type and fit (the constants' offsets inside their region, the ops in graph order) */
function entryFits(e: Entry, key: string, graph: Plan['graph'], heapBase: number, constLength: number, exports: KernelExports): boolean {
  if (e === null || typeof e !== 'object' || e.key !== key || e.heapBase !== heapBase) return false;
  const a = e.arena;
  if (a === null || typeof a !== 'object' || ![a.activations, a.activationBytes, a.scratch, a.scratchBytes, a.end, a.constantBytes].every(isCount)) return false;
  const base = arenaBase(heapBase);
  if (a.constantBytes !== constLength || base + constLength > a.activations || a.activations + a.activationBytes > a.scratch || a.scratch + a.scratchBytes > a.end) return false;
  if (![e.activationBytes, e.maxActivationBytes, e.scratchBytes, e.macs].every(isCount) || e.activationBytes !== a.activationBytes || e.scratchBytes !== a.scratchBytes) return false;
  if (!Array.isArray(a.constantOffsets) || a.constantOffsets.length !== e.steps?.length) return false;
  if (!a.constantOffsets.every((list) => counts(list) && list.every((o) => o >= base && o <= base + constLength))) return false;
  if (!Array.isArray(e.offsets) || !e.offsets.every((p) => counts(p) && p.length === 2 && p[1] < e.activationBytes)) return false;
  const placed = new Set(e.offsets.map((p) => p[0]));
  let next = 0;
  for (const s of e.steps) {
    if (s === null || typeof s !== 'object' || !counts(s.ops) || s.ops.length === 0 || !counts(s.inputs) || !counts(s.outputs)) return false;
    // the steps run the graph's ops in order, each once
    for (const i of s.ops) if (i !== next++) return false;
    if (![...s.inputs, ...s.outputs].every((id) => placed.has(id))) return false;
    if (!isCount(s.macs) || !isCount(s.scratchBytes) || s.scratchBytes > e.scratchBytes || !Array.isArray(s.calls)) return false;
    if (s.kernel === null ? s.calls.length !== 0 || graph.ops[s.ops[0]]?.op !== 'reshape' : !CALL_ONLY_KERNELS.has(s.kernel)) return false;
    for (const c of s.calls) {
      if (!Array.isArray(c) || !Object.hasOwn(KERNEL_ABI, c[0]) || typeof exports[c[0] as keyof KernelExports] !== 'function') return false;
      const abi = KERNEL_ABI[c[0] as keyof typeof KERNEL_ABI];
      if (c.length !== abi.length + 1) return false;
      for (let j = 1; j < c.length; j++) {
        const v = c[j];
        if (typeof v !== 'number' || (abi[j - 1][1] === 'f32' ? Number.isNaN(v) : !Number.isSafeInteger(v))) return false;
      }
    }
  }
  return next === graph.ops.length && [...graph.inputs, ...graph.outputs].every((t) => placed.has(t.id!));
}

// ---------------------------------------------------------------------------------------------
// The load's side (MobileNet.load imports this module only when it is given a store)

/** What a load found in its pack cache: the key, and the entry's bytes when the store had them. */
export interface PackLookup {
  key: string;
  sha256: Digest;
  entry?: unknown;
}

/**
 * Starts looking for the packed form of a .tflite file's bytes for this kernel build: the hash of
 * the model and the store's read (a 4 MB Cache API read took 55-75 ms in Chromium here) run while
 * the load instantiates and warms the kernels. Never rejects: undefined when the engine cannot
 * hash or the store's sha256 fails; no entry when the store has none or cannot read.
 */
export async function lookUpPacked(store: PackCacheStore, bytes: Uint8Array, buildFile: string, flavour: Flavour): Promise<PackLookup | undefined> {
  let sha256: PackLookup['sha256'] | undefined;
  let key: string | undefined;
  try {
    sha256 = digestOf(store);
    key = sha256 && (await packCacheKey(sha256, bytes, buildFile, flavour));
  } catch {
    return undefined; // a store whose sha256 throws: no cache
  }
  if (!sha256) return undefined;
  if (!key) return undefined;
  try {
    return { key, sha256, entry: await store.get(key) };
  } catch {
    return { key, sha256 }; // an unreadable cache is no cache
  }
}

/**
 * The packed model of a lookup's entry, checked against the graph (validated here as planGraph
 * would) and the instantiated build; undefined if there is none or it does not fit.
 */
export async function packedFrom(lookup: PackLookup, parsed: Graph, sets: KernelSet[], kernels: Kernels): Promise<PackedModel | undefined> {
  if (lookup.entry === undefined) return undefined;
  const graph = validateGraph(parsed) as Plan['graph'];
  checkFloatNumerics(graph);
  if (kernelSetsOf(graph.ops).join() !== sets.join()) return undefined;
  return decodeEntry(lookup.sha256, lookup.entry, lookup.key, graph, kernels.exports.heap_base(), kernels.exports);
}

/** Stores a just-packed model's entry (the arena's constants as copied, its calls recorded); failures are ignored. */
export async function writePackCache(store: PackCacheStore, { key }: PackLookup, n: { plan: Plan; arena: ArenaLayout; kernels: Kernels; pointers: RunPointers[] }): Promise<void> {
  const calls = recordCalls(n.plan.steps, n.pointers, n.kernels.memory);
  if (!calls) return;
  const base = arenaBase(n.kernels.exports.heap_base());
  const constants = new Uint8Array(n.kernels.memory.buffer, base, n.arena.constantBytes).slice();
  try {
    const sha256 = digestOf(store);
    const entry = sha256 && (await encodeEntry(sha256, key, n.kernels.exports.heap_base(), n.plan, n.arena, calls, constants));
    if (entry) await store.put(key, entry);
  } catch {
    // a full disk or a quota: the next load packs again
  }
}
