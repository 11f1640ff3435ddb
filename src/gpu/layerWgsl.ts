// WGSL for one q-net layer (shaders/qnet_layer.wgsl) as a plain program descriptor: the shader with
// its shape and tiling filled in, and its bindings. The register block is generated unrolled, because
// SwiftShader turns dynamically indexed private arrays into per-lane memory accesses (a version with
// acc[i][j] ran 4–5× slower); the loaders are generated per input layout around the storage dtype's
// own WGSL (shaders/storage_<dtype>.wgsl, named by src/core/storageCodecs.ts).
import batchParamsSource from '../../shaders/batch_params.wgsl?raw';
import layerSource from '../../shaders/qnet_layer.wgsl?raw';
import { STORAGE_CODECS, type StorageDtype } from '../core/storageCodecs';
import { DEFAULT_TILING, type LayerTiling } from './layerTiling';
import type { ComputeProgram } from './pipelineCache';
import { quadValuesWgsl } from './quadLayout';
import { fillWgsl, wgslF32 } from './wgslTemplate';

export interface LayerShape {
  inDim: number;
  outDim: number;
  strideWords: number;
  /** How the layer's inputs are stored: the documents' dtype for the first layer, f32 activations after. */
  format: StorageDtype;
  residual: boolean;
  last: boolean;
  eps: number;
}

/** Every storage loader in shaders/, by file name. */
const STORAGE_LOADERS: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>('../../shaders/storage_*.wgsl', { query: '?raw', import: 'default', eager: true })).map(([path, source]) => [
    path.slice(path.lastIndexOf('/') + 1),
    source,
  ]),
);

/** The WGSL that reads `dtype` words (stored_value, stored_vec4); throws where shaders/ has no loader for it. */
export function storageLoaderWgsl(dtype: StorageDtype): string {
  const file = STORAGE_CODECS[dtype].wgslLoader;
  const source = STORAGE_LOADERS[file];
  if (source === undefined) throw new Error(`storage ${dtype}: no WGSL loader shaders/${file}`);
  return source;
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
      direct.push(
        `      acc${i}_${g} = fma(vec4<f32>(a${i}.x), b0_${g}, fma(vec4<f32>(a${i}.y), b1_${g}, fma(vec4<f32>(a${i}.z), b2_${g}, fma(vec4<f32>(a${i}.w), b3_${g}, acc${i}_${g}))));`,
      );
    }
  }
  for (let g = 0; g < t.TNV; g++) {
    for (let kk = 0; kk < 4; kk++) fma.push(`        let b${kk}_${g} = b_tile[(k + ${kk}u) * BN4 + tx + ${g}u * WX];`);
  }
  for (let i = 0; i < t.TM; i++) {
    fma.push(`        let a${i} = a_tile[(ty + ${i}u * WY) * BK4 + kq];`);
    for (let g = 0; g < t.TNV; g++) {
      decl.push(`    var acc${i}_${g} = vec4<f32>(0.0);`);
      fma.push(
        `        acc${i}_${g} = fma(vec4<f32>(a${i}.x), b0_${g}, fma(vec4<f32>(a${i}.y), b1_${g}, fma(vec4<f32>(a${i}.z), b2_${g}, fma(vec4<f32>(a${i}.w), b3_${g}, acc${i}_${g}))));`,
      );
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
 * The input and weight loaders for one layer: element types and bodies chosen by the storage's values
 * per word and by alignment, so aligned layers read whole vec4s of values (no guards) and odd sizes stay exact.
 */
function loaders(shape: LayerShape, t: LayerTiling): { X_ELEM: string; W_ELEM: string; Y_ELEM: string; LOADERS: string } {
  const K = shape.inDim;
  const N = shape.outDim;
  const perWord = STORAGE_CODECS[shape.format].valuesPerWord;
  // The word of a row that holds value k, and the words that hold four values.
  // (WGSL's shift takes no bare sums: `(k + q) >> 1u`.)
  const wordOf = (k: string) => (perWord === 1 ? k : `(${k.includes(' ') ? `(${k})` : k} >> ${Math.log2(perWord)}u)`);
  const words4 = 4 / perWord;
  const kAligned = K % 4 === 0;
  // Whole vectors of four values as input elements; QUAD_A reads single words, so it keeps u32 elements.
  const xVec = kAligned && !t.quadA && words4 > 1;
  // Every weight read of the k loops lands inside W (K a multiple of BK, N of BN).
  const wInside = K % t.BK === 0 && N % t.BN === 0;
  const wVec = N % 4 === 0;
  const X_ELEM = xVec ? `vec${words4}<u32>` : 'u32';
  let x1 = `return stored_value(x_in[params.in_offset + row * STRIDE + ${wordOf('k')}], k);`;
  let x4: string;
  if (xVec) {
    x1 = `let w = params.in_offset + row * STRIDE + ${wordOf('k')};
  return stored_value(x_in[w >> ${Math.log2(words4)}u][w & ${words4 - 1}u], k);`;
    x4 = `return stored_vec4(x_in[(word + ${wordOf('k')}) >> ${Math.log2(words4)}u], k);`;
  } else if (kAligned && words4 === 1) {
    x4 = `return stored_vec4(x_in[word + ${wordOf('k')}], k);`;
  } else if (kAligned) {
    // Whole vectors of u32 words (quadA keeps u32 elements): no guards needed.
    const each = Array.from({ length: words4 }, (_, q) => `x_in[w${q ? ` + ${q}u` : ''}]`).join(', ');
    x4 = `let w = word + ${wordOf('k')};
  return stored_vec4(vec${words4}<u32>(${each}), k);`;
  } else {
    // Padding values are stored as zero, but they are not read: past K the value is 0.
    x4 = `var v = vec4<f32>(0.0);
  for (var q = 0u; q < 4u; q++) {
    if (k + q < K) {
      v[q] = stored_value(x_in[word + ${wordOf('k + q')}], k + q);
    }
  }
  return v;`;
  }
  // One input per lane for QUAD_A (u32 elements); past K only where K is not a multiple of 4.
  const kc = kAligned ? 'k' : 'min(k, K - 1u)';
  const x1atValue = `stored_value(x_in[word + ${wordOf('c')}], c)`;
  const x1at = `let c = ${kc};
  ${kAligned ? `return ${x1atValue};` : `return select(0.0, ${x1atValue}, k < K);`}`;
  let w4: string;
  if (wInside) {
    w4 = wVec
      ? `return w[(k * N + c) >> 2u];`
      : `let b = k * N + c;
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
    storageLoaderWgsl(shape.format),
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
  const body =
    sumLanes(t) === 4
      ? `var s = v + quadSwapX(v);
  return s + quadSwapY(s);`
      : `return v;`;
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

/** One batch's parameter slot (layerParams) and its binding 0, as every q-net program declares it. */
export const BATCH_PARAMS_WGSL = batchParamsSource;

/** Group 0 of every layer program: params, x_in, w, bias, y_out, absmax, w_out, scores (qnet_layer.wgsl). */
export const LAYER_BINDINGS: ComputeProgram['bindings'] = [{ uniform: LAYER_PARAMS_BYTES }, 'read', 'read', 'read', 'write', 'read', 'read', 'write'];

export function layerWgsl(shape: LayerShape, tiling: LayerTiling = DEFAULT_TILING): string {
  return fillWgsl(
    layerSource,
    {
      BATCH_PARAMS: BATCH_PARAMS_WGSL,
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

/** One q-net layer as a program: `tiling` is the layer's own (layerTiling of the q-net's tiling). */
export function layerProgram(shape: LayerShape, tiling: LayerTiling): ComputeProgram {
  return {
    label: `qnet-layer ${shape.inDim}→${shape.outDim} ${shape.format}${shape.residual ? ' res' : ''}${shape.last ? ' last' : ''}`,
    code: layerWgsl(shape, tiling),
    bindings: LAYER_BINDINGS,
  };
}
