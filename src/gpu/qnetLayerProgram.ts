// The fused q-net layer kernel (shaders/qnet_layer.wgsl) as a program with explicit shapes:
// one pipeline per distinct (in, out, input format, residual, last) — built once per scorer.
import layerSource from '../../shaders/qnet_layer.wgsl?raw';
import { hiddenOutDims, type QNetArchitecture } from '../core/qnet';
import type { StorageDtype } from '../core/vectorStorage';
import { isCpuEmulated } from './device';
import { quadValuesWgsl, quadsShareRows } from './quadLayout';
import { fillWgsl, wgslF32 } from './wgslTemplate';

/** How layer inputs are packed in 32-bit words (selects the generated loaders). */
export const InputFormat = { F32: 0, F16: 1, Int8: 2 } as const;
export type InputFormat = (typeof InputFormat)[keyof typeof InputFormat];

export interface LayerShape {
  inDim: number;
  outDim: number;
  strideWords: number;
  format: InputFormat;
  residual: boolean;
  last: boolean;
  eps: number;
}

/**
 * Tile sizes: a workgroup computes BM rows × BN columns per block, BK deep per workgroup-memory
 * tile; each thread holds TM rows × 4·TNV columns in registers.
 */
export interface LayerTiling {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TNV: number;
  /** Read the GEMM operands straight from storage instead of staging them in workgroup memory. */
  direct?: boolean;
  /**
   * With `direct`: each lane of a quad loads one of four adjacent inputs and quadBroadcast shares
   * them. Needs the 'subgroups' feature and quads whose four lanes lie in one row of the workgroup
   * (they need the same rows of documents); checkTiling checks both on the device.
   */
  quadA?: boolean;
  /**
   * With `direct` and `quadA`: layers with at most `maxOut` outputs (first entry that fits) run one column block
   * as wide as the row, with TNV column groups per thread, and take their LayerNorm on the registers
   * (qnet_layer.wgsl's ROW_EPILOGUE) instead of storing the pre-norm row and sweeping it twice.
   * BM and TM stay: every layer of a batch covers the same rows.
   */
  wholeRow?: { maxOut: number; TNV: number }[];
  /** Set by layerTiling on the tiling of one layer that runs as a whole row. */
  rowInRegisters?: boolean;
}

/**
 * The tiling one layer runs with: one whole-row block where `wholeRow` has an entry for its width (BN
 * rounded up to whole column groups per thread, and to whole quads of threads with quadA), else the
 * tiling itself.
 */
export function layerTiling(t: LayerTiling, outDim: number): LayerTiling {
  const { wholeRow, ...rest } = t;
  const row = wholeRow?.find((e) => outDim <= e.maxOut);
  if (!row) {
    // A caller's rowInRegisters never reaches a layer wider than its block (BN < N would be wrong).
    const { rowInRegisters: _, ...blocks } = t;
    return blocks;
  }
  const step = 4 * row.TNV * (t.quadA ? 4 : 1);
  return { ...rest, BN: Math.ceil(outDim / step) * step, TNV: row.TNV, rowInRegisters: true };
}

/** The distinct tilings the hidden layers of widths `outDims` run with. */
function layerTilings(t: LayerTiling, outDims: readonly number[]): LayerTiling[] {
  const byKey = new Map(outDims.map((o) => layerTiling(t, o)).map((l) => [JSON.stringify(l), l] as const));
  return [...byKey.values()];
}

/** Threads across columns (WX) and rows (WY) of a workgroup. */
export function workgroupShape(t: LayerTiling): { wx: number; wy: number } {
  return { wx: t.BN / (4 * t.TNV), wy: t.BM / t.TM };
}

// Real GPUs: chosen by measurement on an NVIDIA H100 in headless Chromium 156 over Vulkan (bench
// page `tiling` sweeps, docs/BENCHMARK.md): for the paper's 768×6 q-net at N = 100k, 4 rows × 16
// columns per thread in 64 × 128 blocks ran 2.1M docs/s (2.1M read straight from storage too),
// against 1.1M for the 64 × 64, 8 × 8 block first tuned on SwiftShader and 1.1–2.0M for ten other
// shapes; for [256,256,256,1] all shapes ran 25–28.5M docs/s.
export const DEFAULT_TILING: LayerTiling = { BM: 64, BN: 128, BK: 16, TM: 4, TNV: 4 };

/**
 * CPU-emulated adapters: an 8×8 register block read straight from storage. On SwiftShader (a CPU
 * implementation of Vulkan) workgroup barriers are expensive and the CPU caches do the tiling:
 * measured 1.3× faster than the workgroup-memory kernel of the same block for the paper's 768×6
 * q-net (350 vs 265 docs/s) and for [256,256,256,1]; there 8×8 registers per thread ran 1.8–2.2×
 * faster than 4×4 (e2e/tune.spec.ts, TUNE=1), and BM 128, BN 128, BK 32, TM 16, TNV 4 were slower.
 */
export const DIRECT_TILING: LayerTiling = { BM: 64, BN: 64, BK: 16, TM: 8, TNV: 2, direct: true };

/**
 * CPU-emulated adapters with subgroups: the direct kernel with the row inputs shared across each
 * quad, which makes a 12-row block pay. SwiftShader turns every storage load with lane-varying
 * offsets into a gather, and the four lanes of a quad used to gather the same row values; measured
 * there in a plain GEMM (4608 × 768 × 768): 8 × 8 direct 7.9 GFLOP/s, 8 × 8 with quad-shared rows
 * 9.0, 12 × 8 with quad-shared rows 10.5–10.8 (12 × 8 without them 6.3; 16 × 8 and 24 × 4 10.0).
 * Layers of ≤ 256 outputs run as whole rows (LayerNorm on the registers), one row of threads per
 * workgroup (BM = TM). e2e/tune.spec.ts, search(10), two rounds each: [256,256,256,1] over 32,768
 * documents 23.6k/23.9k docs/s against 20.7k/21.0k with 96-row workgroups and 64-column blocks
 * (BM 24: 22.7k, BM 48: 19.8k, BM 96: 17.2k; 16 columns per thread: 19.9k); the shipped model's
 * [100,100,100,1] over 24,802 72.8k/75.1k against 64.3k/67.0k; the paper's 768×6 the same (1,101
 * docs/s at N = 4,096 with BM 12 and 96).
 */
export const QUAD_DIRECT_TILING: LayerTiling = {
  BM: 12,
  BN: 64,
  BK: 16,
  TM: 12,
  TNV: 2,
  direct: true,
  quadA: true,
  wholeRow: [{ maxOut: 256, TNV: 2 }],
};

/**
 * Workgroup-memory tiles on real GPUs; direct reads on CPU-emulated adapters, with quad-shared rows
 * where the device has subgroups laid out as the kernel needs (checked by a dispatch, once per device).
 */
export async function tilingFor(device: GPUDevice, dims: readonly number[]): Promise<LayerTiling> {
  if (!isCpuEmulated(device.adapterInfo)) return DEFAULT_TILING;
  return (await quadTilingRuns(device, dims)) ? QUAD_DIRECT_TILING : DIRECT_TILING;
}

/** Whether QUAD_DIRECT_TILING can run the q-net `dims` on this device: each workgroup shape its layers use passes the quad check. */
export function quadTilingRuns(device: GPUDevice, dims: readonly number[]): Promise<boolean> {
  return quadLayoutHolds(device, QUAD_DIRECT_TILING, dims);
}

async function quadLayoutHolds(device: GPUDevice, tiling: LayerTiling, dims: readonly number[]): Promise<boolean> {
  for (const t of layerTilings(tiling, hiddenOutDims(dims))) {
    const { wx, wy } = workgroupShape(t);
    if (!(await quadsShareRows(device, wx, wy))) return false;
  }
  return true;
}

/** Refuses a tiling the device cannot run for the q-net `dims` (sizes, limits, and for quadA the subgroup layout). */
export async function checkTiling(tiling: LayerTiling, device: GPUDevice, dims: readonly number[]): Promise<void> {
  for (const t of layerTilings(tiling, hiddenOutDims(dims))) checkLayerTiling(t, device.limits);
  if (tiling.quadA && !(await quadLayoutHolds(device, tiling, dims))) {
    throw new Error(`q-net tiling ${JSON.stringify(tiling)}: quadA needs the 'subgroups' feature with every quad four consecutive threads of one row of the workgroup, and this device has not`);
  }
}

function checkLayerTiling(t: LayerTiling, limits: GPUSupportedLimits): void {
  const { wx, wy } = workgroupShape(t);
  const ok = Number.isInteger(wx) && Number.isInteger(wy) && t.BK % 4 === 0 && wx >= 1 && wy >= 1;
  if (!ok) throw new Error(`q-net tiling ${JSON.stringify(t)}: BN must divide by 4·TNV, BM by TM, BK by 4`);
  if (t.quadA && (!t.direct || wx % 4 !== 0)) throw new Error(`q-net tiling ${JSON.stringify(t)}: quadA needs direct and a multiple of 4 threads across columns`);
  if (t.rowInRegisters && !t.quadA) throw new Error(`q-net tiling ${JSON.stringify(t)}: wholeRow needs quadA (its row sums go through quad swaps)`);
  if (wx * wy > limits.maxComputeInvocationsPerWorkgroup) throw new Error(`q-net tiling ${JSON.stringify(t)}: ${wx * wy} threads exceed the device's ${limits.maxComputeInvocationsPerWorkgroup}`);
  // The direct kernel keeps one-entry stand-ins for the operand tiles (qnet_layer.wgsl).
  const tileFloats = t.direct ? 8 : t.BM * t.BK + t.BK * t.BN;
  const bytes = (tileFloats + (t.BM * wx) / (t.rowInRegisters ? 4 : 1)) * 4;
  if (bytes > limits.maxComputeWorkgroupStorageSize) throw new Error(`q-net tiling ${JSON.stringify(t)}: ${bytes} bytes of workgroup memory exceed the device's ${limits.maxComputeWorkgroupStorageSize}`);
}

/** The unrolled register block: declarations, the FMAs for four k, and the epilogue stores. */
function registerBlock(
  t: LayerTiling,
  shape: LayerShape,
): { ACC_DECL: string; ACC_DECL_OUTER: string; ACC_FMA: string; ACC_FMA_DIRECT: string; ACC_STORE: string; DIRECT_BASES: string; ROW_EPILOGUE: string } {
  const decl: string[] = [];
  const fma: string[] = [];
  const direct: string[] = [];
  const store: string[] = [];
  // Row starts and column groups computed once per column block. Rows past the batch read the
  // batch's last row (in bounds); their results are never stored.
  const bases: string[] = [];
  for (let i = 0; i < t.TM; i++) bases.push(`    let xb${i} = params.in_offset + min(row0 + ty + ${i}u * WY, last_row) * STRIDE;`);
  for (let g = 0; g < t.TNV; g++) bases.push(`    let wc${g} = col(n0, tx, ${g}u, 0u);`);
  for (let g = 0; g < t.TNV; g++) {
    for (let kk = 0; kk < 4; kk++) direct.push(`      let b${kk}_${g} = load_w4(k + ${kk}u, wc${g});`);
  }
  if (t.quadA) bases.push(`    let quad_lane = sg_lane & 3u;`);
  for (let i = 0; i < t.TM; i++) {
    if (t.quadA) {
      direct.push(`      let v${i} = load_x1_at(xb${i}, k + quad_lane);`);
      direct.push(`      let a${i} = ${quadValuesWgsl(`v${i}`)};`);
    } else {
      direct.push(`      let a${i} = load_x4_at(xb${i}, k);`);
    }
    for (let g = 0; g < t.TNV; g++) {
      direct.push(`      acc${i}_${g} = fma(vec4<f32>(a${i}.x), b0_${g}, fma(vec4<f32>(a${i}.y), b1_${g}, fma(vec4<f32>(a${i}.z), b2_${g}, fma(vec4<f32>(a${i}.w), b3_${g}, acc${i}_${g}))));`);
    }
  }
  for (let g = 0; g < t.TNV; g++) {
    for (let kk = 0; kk < 4; kk++) fma.push(`        let b${kk}_${g} = b_tile[(k + ${kk}u) * BN4 + tx + ${g}u * WX];`);
  }
  for (let i = 0; i < t.TM; i++) {
    fma.push(`        let a${i} = a_tile[(ty + ${i}u * WY) * BK4 + kq];`);
    for (let g = 0; g < t.TNV; g++) {
      decl.push(`    var acc${i}_${g} = vec4<f32>(0.0);`);
      fma.push(`        acc${i}_${g} = fma(vec4<f32>(a${i}.x), b0_${g}, fma(vec4<f32>(a${i}.y), b1_${g}, fma(vec4<f32>(a${i}.z), b2_${g}, fma(vec4<f32>(a${i}.w), b3_${g}, acc${i}_${g}))));`);
      store.push(`    part[${i}] += store_relu(row0 + ty + ${i}u * WY, col(n0, tx, ${g}u, 0u), acc${i}_${g});`);
    }
  }
  const whole = !!t.rowInRegisters;
  return {
    // A whole-row block keeps its accumulators past the (single) column block for the epilogue.
    ACC_DECL: whole ? '' : decl.join('\n'),
    ACC_DECL_OUTER: whole ? decl.join('\n') : '',
    ACC_FMA: fma.join('\n'),
    ACC_FMA_DIRECT: direct.join('\n'),
    ACC_STORE: whole ? '' : store.join('\n'),
    DIRECT_BASES: bases.join('\n'),
    ROW_EPILOGUE: whole ? rowEpilogue(t, shape) : '',
  };
}

/**
 * The whole-row epilogue (WHOLE_ROW): bias, ReLU, the exact two-pass LayerNorm and the residual on the
 * registers, then one store per output, or for the last layer the output dot product. Columns past N
 * hold 0 after ReLU (their weights and bias read as 0) and are masked out of the variance and the output.
 */
function rowEpilogue(t: LayerTiling, shape: LayerShape): string {
  const TM = t.TM;
  const G = t.TNV;
  const L: string[] = [];
  const each = (f: (i: number, g: number) => string) => {
    for (let i = 0; i < TM; i++) for (let g = 0; g < G; g++) L.push(f(i, g));
  };
  const overGroups = (term: (g: number) => string) => Array.from({ length: G }, (_, g) => term(g)).join(' + ');
  for (let g = 0; g < G; g++) {
    L.push(`    let ec${g} = col(0u, tx, ${g}u, 0u);`);
    L.push(`    let bv${g} = load_bias4(ec${g});`);
    L.push(`    let cm${g} = vec4<bool>(ec${g} < N, ec${g} + 1u < N, ec${g} + 2u < N, ec${g} + 3u < N);`);
  }
  each((i, g) => `    acc${i}_${g} = max(acc${i}_${g} + bv${g}, vec4<f32>(0.0));`);
  for (let i = 0; i < TM; i++) L.push(`    part[${i}] = dot(${overGroups((g) => `acc${i}_${g}`)}, vec4<f32>(1.0));`);
  L.push(`    let row_sum = reduce_rows(&part, ty, tx);`);
  each((i, g) => `    acc${i}_${g} = select(vec4<f32>(0.0), acc${i}_${g} - vec4<f32>(row_sum[${i}] / f32(N)), cm${g});`);
  for (let i = 0; i < TM; i++) L.push(`    part[${i}] = ${overGroups((g) => `dot(acc${i}_${g}, acc${i}_${g})`)};`);
  L.push(`    let row_sq = reduce_rows(&part, ty, tx);`);
  for (let i = 0; i < TM; i++) {
    L.push(`    let rs${i} = inverseSqrt(row_sq[${i}] / f32(N) + EPS);`);
    L.push(`    let er${i} = row0 + ty + ${i}u * WY;`);
    if (shape.residual) L.push(`    let eb${i} = params.in_offset + min(er${i}, last_row) * STRIDE;`);
  }
  // Residual reads past N are zeroed by the mask, as are whatever the loaders return there.
  const value = (i: number, g: number) =>
    shape.residual ? `select(vec4<f32>(0.0), acc${i}_${g} * rs${i} + load_x4_at(eb${i}, ec${g}), cm${g})` : `acc${i}_${g} * rs${i}`;
  if (shape.last) {
    for (let g = 0; g < G; g++) L.push(`    let wo${g} = load_wout4(ec${g});`);
    for (let i = 0; i < TM; i++) L.push(`    part[${i}] = ${overGroups((g) => `dot(${value(i, g)}, wo${g})`)};`);
    L.push(`    let dots = reduce_rows(&part, ty, tx);`);
    L.push(`    if (tx == 0u) {`);
    for (let i = 0; i < TM; i++) L.push(`      if (er${i} < rows) { scores[params.score_offset + er${i}] = dots[${i}]; }`);
    L.push(`    }`);
  } else {
    for (let i = 0; i < TM; i++) {
      L.push(`    if (er${i} < rows) {`);
      for (let g = 0; g < G; g++) L.push(`      store_y4(er${i}, ec${g}, ${value(i, g)});`);
      L.push(`    }`);
    }
  }
  return L.join('\n');
}

/**
 * The input and weight loaders for one layer: element types and bodies chosen by format and
 * alignment, so aligned layers read whole vec4s (no guards) and odd sizes stay exact.
 */
function loaders(shape: LayerShape, t: LayerTiling): { X_ELEM: string; W_ELEM: string; Y_ELEM: string; LOADERS: string } {
  const K = shape.inDim;
  const N = shape.outDim;
  const kAligned = K % 4 === 0;
  // Whole-vector input elements; QUAD_A reads single words, so it keeps u32 elements.
  const xVec = kAligned && !t.quadA;
  // Every weight read of the k loops lands inside W (K a multiple of BK, N of BN).
  const wInside = K % t.BK === 0 && N % t.BN === 0;
  const wVec = N % 4 === 0;
  let X_ELEM = 'u32';
  let x1: string;
  let x4: string;
  if (shape.format === InputFormat.F32 && xVec) {
    X_ELEM = 'vec4<u32>';
    x1 = `let w = params.in_offset + row * STRIDE + k;
  return bitcast<f32>(x_in[w >> 2u][w & 3u]);`;
    x4 = `return bitcast<vec4<f32>>(x_in[(word + k) >> 2u]);`;
  } else if (shape.format === InputFormat.F32 && kAligned) {
    // Whole vec4s of u32 words (quadA keeps u32 elements): no guards needed.
    x1 = `return bitcast<f32>(x_in[params.in_offset + row * STRIDE + k]);`;
    x4 = `return bitcast<vec4<f32>>(vec4<u32>(x_in[word + k], x_in[word + k + 1u], x_in[word + k + 2u], x_in[word + k + 3u]));`;
  } else if (shape.format === InputFormat.F32) {
    x1 = `return bitcast<f32>(x_in[params.in_offset + row * STRIDE + k]);`;
    x4 = `var v = vec4<f32>(0.0);
  for (var q = 0u; q < 4u; q++) {
    if (k + q < K) {
      v[q] = bitcast<f32>(x_in[word + k + q]);
    }
  }
  return v;`;
  } else if (shape.format === InputFormat.F16 && xVec) {
    X_ELEM = 'vec2<u32>';
    x1 = `let w = params.in_offset + row * STRIDE + (k >> 1u);
  let pair = unpack2x16float(x_in[w >> 1u][w & 1u]);
  return select(pair.x, pair.y, (k & 1u) == 1u);`;
    x4 = `let p = x_in[(word + (k >> 1u)) >> 1u];
  return vec4<f32>(unpack2x16float(p.x), unpack2x16float(p.y));`;
  } else if (shape.format === InputFormat.F16 && kAligned) {
    x1 = `let pair = unpack2x16float(x_in[params.in_offset + row * STRIDE + (k >> 1u)]);
  return select(pair.x, pair.y, (k & 1u) == 1u);`;
    x4 = `let w = word + (k >> 1u);
  return vec4<f32>(unpack2x16float(x_in[w]), unpack2x16float(x_in[w + 1u]));`;
  } else if (shape.format === InputFormat.F16) {
    x1 = `let pair = unpack2x16float(x_in[params.in_offset + row * STRIDE + (k >> 1u)]);
  return select(pair.x, pair.y, (k & 1u) == 1u);`;
    x4 = `let lo = unpack2x16float(x_in[word + (k >> 1u)]);
  var hi = vec2<f32>(0.0);
  if (k + 2u < K) {
    hi = unpack2x16float(x_in[word + (k >> 1u) + 1u]);
  }
  return vec4<f32>(lo, hi); // padding halves are stored as zero`;
  } else {
    x1 = `let quad = unpack4x8snorm(x_in[params.in_offset + row * STRIDE + (k >> 2u)]);
  return quad[k & 3u] * absmax[k];`;
    x4 = kAligned
      ? `return unpack4x8snorm(x_in[word + (k >> 2u)]) * vec4<f32>(absmax[k], absmax[k + 1u], absmax[k + 2u], absmax[k + 3u]);`
      : `let quad = unpack4x8snorm(x_in[word + (k >> 2u)]);
  var v = vec4<f32>(0.0);
  for (var q = 0u; q < 4u; q++) {
    if (k + q < K) {
      v[q] = quad[q] * absmax[k + q];
    }
  }
  return v;`;
  }
  // One input per lane for QUAD_A (u32 elements); past K only where K is not a multiple of 4.
  const kc = kAligned ? 'k' : 'min(k, K - 1u)';
  const guard = (v: string) => (kAligned ? `return ${v};` : `return select(0.0, ${v}, k < K);`);
  let x1at = '';
  if (t.quadA) {
    if (shape.format === InputFormat.F32) x1at = guard(`bitcast<f32>(x_in[word + ${kc}])`);
    else if (shape.format === InputFormat.F16) x1at = `let c = ${kc};
  let pair = unpack2x16float(x_in[word + (c >> 1u)]);
  ${guard('select(pair.x, pair.y, (c & 1u) == 1u)')}`;
    else x1at = `let c = ${kc};
  ${guard('unpack4x8snorm(x_in[word + (c >> 2u)])[c & 3u] * absmax[c]')}`;
  }
  let w4: string;
  if (wInside) {
    w4 = wVec ? `return w[(k * N + c) >> 2u];` : `let b = k * N + c;
  return vec4<f32>(w[b], w[b + 1u], w[b + 2u], w[b + 3u]);`;
  } else {
    // Branch-free edges: clamp the index into W, then zero what lies outside. A branch here made
    // lanes diverge in every k step of the column block that crosses N (on SwiftShader [100,100,100,1]
    // ran 1.4× slower per document than [128,128,128,1], which has 1.6× the work).
    const inK = '(k < K)';
    w4 = wVec
      ? `let v = w[(min(k, K - 1u) * N + min(c, N - 4u)) >> 2u];
  return select(vec4<f32>(0.0), v, ${inK} && c < N);`
      : `let b = min(k, K - 1u) * N;
  let v = vec4<f32>(w[b + min(c, N - 1u)], w[b + min(c + 1u, N - 1u)], w[b + min(c + 2u, N - 1u)], w[b + min(c + 3u, N - 1u)]);
  return select(vec4<f32>(0.0), v, vec4<bool>(c < N, c + 1u < N, c + 2u < N, c + 3u < N) & vec4<bool>${inK});`;
  }
  // y_out: whole vec4 elements for whole-row layers whose rows are whole vec4s (one 16-byte store per
  // four outputs); every other kernel keeps f32 elements, as before whole rows existed.
  const yVec = !!t.rowInRegisters && N % 4 === 0;
  const yAccess = yVec
    ? [`fn load_y(i: u32) -> f32 {\n  return y_out[i >> 2u][i & 3u];\n}`, `fn store_y(i: u32, v: f32) {\n  y_out[i >> 2u][i & 3u] = v;\n}`]
    : [`fn load_y(i: u32) -> f32 {\n  return y_out[i];\n}`, `fn store_y(i: u32, v: f32) {\n  y_out[i] = v;\n}`];
  const LOADERS = [
    `fn load_x(row: u32, k: u32) -> f32 {\n  ${x1}\n}`,
    `fn load_x4_at(word: u32, k: u32) -> vec4<f32> {\n  ${x4}\n}`,
    `fn load_w4(k: u32, c: u32) -> vec4<f32> {\n  ${w4}\n}`,
    ...(t.quadA ? [`fn load_x1_at(word: u32, k: u32) -> f32 {\n  ${x1at}\n}`] : []),
    ...yAccess,
    laneSum(t),
    ...(t.rowInRegisters ? wholeRowHelpers(yVec) : []),
  ].join('\n\n');
  return { X_ELEM, W_ELEM: wVec ? 'vec4<f32>' : 'f32', Y_ELEM: yVec ? 'vec4<f32>' : 'f32', LOADERS };
}

/** Four adjacent entries of an N-long vector, zero past N, without branches. */
function vec4Past(name: string): string {
  const at = (q: number) => `${name}[min(c${q ? ` + ${q}u` : ''}, N - 1u)]`;
  return `return select(vec4<f32>(0.0), vec4<f32>(${[0, 1, 2, 3].map(at).join(', ')}), vec4<bool>(c < N, c + 1u < N, c + 2u < N, c + 3u < N));`;
}

/** Threads that add their row partials before the workgroup reduction (qnet_layer.wgsl's SUM_LANES). */
function sumLanes(t: LayerTiling): number {
  return t.rowInRegisters ? 4 : 1;
}

/**
 * lane_sum for reduce_rows. Whole rows: the four lanes of a quad are threads 4q .. 4q+3 of one row
 * (checked by quadLayout.ts), so two quad swaps give each of them the quad's sum, and one slot per quad
 * is read back instead of four.
 */
function laneSum(t: LayerTiling): string {
  const body = sumLanes(t) === 4 ? `var s = v + quadSwapX(v);
  return s + quadSwapY(s);` : `return v;`;
  return `fn lane_sum(v: f32) -> f32 {
  ${body}
}`;
}

/** The whole-row epilogue's loads and store. */
function wholeRowHelpers(yVec: boolean): string[] {
  const store4 = yVec
    ? `if (c < N) {\n    y_out[(r * N + c) >> 2u] = v;\n  }`
    : `for (var q = 0u; q < 4u; q++) {\n    if (c + q < N) {\n      y_out[r * N + c + q] = v[q];\n    }\n  }`;
  const helpers = [
    `fn load_bias4(c: u32) -> vec4<f32> {\n  ${vec4Past('bias')}\n}`,
    `fn load_wout4(c: u32) -> vec4<f32> {\n  ${vec4Past('w_out')}\n}`,
    `fn store_y4(r: u32, c: u32, v: vec4<f32>) {\n  ${store4}\n}`,
  ];
  return helpers;
}

export const LAYER_PARAMS_BYTES = 16;

export function layerWgsl(shape: LayerShape, tiling: LayerTiling = DEFAULT_TILING): string {
  return fillWgsl(
    layerSource,
    {
      K: shape.inDim,
      N: shape.outDim,
      STRIDE: shape.strideWords,
      RESIDUAL: shape.residual,
      LAST: shape.last,
      EPS: wgslF32(shape.eps),
      BM: tiling.BM,
      BN: tiling.BN,
      BK: tiling.BK,
      TM: tiling.TM,
      TNV: tiling.TNV,
      DIRECT: !!tiling.direct,
      WHOLE_ROW: !!tiling.rowInRegisters,
      SUM_LANES: sumLanes(tiling),
      ENABLE: tiling.quadA ? 'enable subgroups;' : '',
      QUAD_PARAM: tiling.quadA ? ', @builtin(subgroup_invocation_id) sg_lane: u32' : '',
      ...registerBlock(tiling, shape),
      ...loaders(shape, tiling),
    },
    'qnet_layer.wgsl',
  );
}

export function layerBindGroupLayout(device: GPUDevice): GPUBindGroupLayout {
  const ro = { type: 'read-only-storage' } as const;
  const rw = { type: 'storage' } as const;
  const c = GPUShaderStage.COMPUTE;
  return device.createBindGroupLayout({
    label: 'qnet-layer',
    entries: [
      { binding: 0, visibility: c, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: LAYER_PARAMS_BYTES } },
      { binding: 1, visibility: c, buffer: ro },
      { binding: 2, visibility: c, buffer: ro },
      { binding: 3, visibility: c, buffer: ro },
      { binding: 4, visibility: c, buffer: rw },
      { binding: 5, visibility: c, buffer: ro },
      { binding: 6, visibility: c, buffer: ro },
      { binding: 7, visibility: c, buffer: rw },
    ],
  });
}

export async function createLayerPipeline(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  shape: LayerShape,
  tiling: LayerTiling = DEFAULT_TILING,
): Promise<GPUComputePipeline> {
  const code = layerWgsl(shape, tiling);
  const module = device.createShaderModule({ label: 'qnet-layer', code });
  return device.createComputePipelineAsync({
    label: `qnet-layer ${shape.inDim}→${shape.outDim} f${shape.format}${shape.residual ? ' res' : ''}${shape.last ? ' last' : ''}`,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: 'main' },
  });
}

const FORMAT_OF: Record<StorageDtype, InputFormat> = { f32: InputFormat.F32, f16: InputFormat.F16, int8: InputFormat.Int8 };

/**
 * One pipeline per q-net layer for documents stored as `dtype` rows of `firstStrideWords` words (the
 * exhaustive and the gather scorer both run these); layers of the same shape share one pipeline (the
 * paper's middle layers are all alike).
 */
export function createQnetLayerPipelines(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  arch: QNetArchitecture,
  dtype: StorageDtype,
  firstStrideWords: number,
  tiling: LayerTiling,
): Promise<GPUComputePipeline[]> {
  const { dims } = arch;
  const shapes: LayerShape[] = [];
  for (let j = 0; j < dims.length - 2; j++) {
    shapes.push({
      inDim: dims[j],
      outDim: dims[j + 1],
      strideWords: j === 0 ? firstStrideWords : dims[j],
      format: j === 0 ? FORMAT_OF[dtype] : InputFormat.F32,
      residual: arch.residual[j],
      last: j === dims.length - 3,
      eps: arch.layerNormEps,
    });
  }
  const cache = new Map<string, Promise<GPUComputePipeline>>();
  return Promise.all(
    shapes.map((s) => {
      const key = JSON.stringify(s);
      if (!cache.has(key)) cache.set(key, createLayerPipeline(device, layout, s, layerTiling(tiling, s.outDim)));
      return cache.get(key)!;
    }),
  );
}
