// float32 elementwise ADD / MUL (TFLite semantics: the float op, then the fused activation
// clamp min(max(x, actMin), actMax)) and LOGISTIC. Broadcasting is the host's business
// (src/ops/add): `a` is rows x cols and `b` one row of `cols` values reused by every row
// (rows = 1 for equal shapes), or one number for the *_const kernels.

const OP_ADD = 0;
const OP_MUL = 1;

@inline
function apply(x: f32, y: f32, op: i32): f32 {
  return op == OP_ADD ? x + y : x * y;
}

@inline
function vApply(x: v128, y: v128, op: i32): v128 {
  return op == OP_ADD ? f32x4.add(x, y) : f32x4.mul(x, y);
}

@inline
function clamp(v: f32, lo: f32, hi: f32): f32 {
  return min<f32>(max<f32>(v, lo), hi);
}

@inline
function binaryRows(a: usize, b: usize, out: usize, rows: i32, cols: i32, actMin: f32, actMax: f32, op: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const ar = a + <usize>r * rowBytes;
    const or = out + <usize>r * rowBytes;
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax);
      for (; c + 4 <= cols; c += 4) {
        const o = <usize>c << 2;
        v128.store(or + o, f32x4.min(f32x4.max(vApply(v128.load(ar + o), v128.load(b + o), op), lo), hi));
      }
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(or + o, clamp(apply(load<f32>(ar + o), load<f32>(b + o), op), actMin, actMax));
    }
  }
}

@inline
function binaryConst(a: usize, out: usize, n: i32, k: f32, actMin: f32, actMax: f32, op: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const lo = f32x4.splat(actMin), hi = f32x4.splat(actMax), vk = f32x4.splat(k);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.min(f32x4.max(vApply(v128.load(a + o), vk, op), lo), hi));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, clamp(apply(load<f32>(a + o), k, op), actMin, actMax));
  }
}

export function f32_add(a: usize, b: usize, out: usize, rows: i32, cols: i32, actMin: f32, actMax: f32): void {
  binaryRows(a, b, out, rows, cols, actMin, actMax, OP_ADD);
}

export function f32_mul(a: usize, b: usize, out: usize, rows: i32, cols: i32, actMin: f32, actMax: f32): void {
  binaryRows(a, b, out, rows, cols, actMin, actMax, OP_MUL);
}

export function f32_add_const(a: usize, out: usize, n: i32, k: f32, actMin: f32, actMax: f32): void {
  binaryConst(a, out, n, k, actMin, actMax, OP_ADD);
}

export function f32_mul_const(a: usize, out: usize, n: i32, k: f32, actMin: f32, actMax: f32): void {
  binaryConst(a, out, n, k, actMin, actMax, OP_MUL);
}

// 1 / (1 + e^-x), in float64 so the one rounding to f32 keeps it within an ulp; scalar in every
// build (no SIMD exp), and only the SSD head's [1, 1917, 91] runs it
export function f32_logistic(inp: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const x = <f64>load<f32>(inp + o);
    store<f32>(out + o, <f32>(1.0 / (1.0 + Math.exp(-x))));
  }
}
