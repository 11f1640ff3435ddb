// Measures the adapter's f32 matrix-multiply peak with the best of several tile configurations of a
// plain tiled, register-blocked GEMM (bench/shaders/gemm_peak.wgsl). The benchmark divides our q-net's GFLOP/s
// by this figure. Every configuration's result is checked at sampled entries against a Float64 product,
// so a broken kernel cannot report a fantasy peak.
import gemmSource from './shaders/gemm_peak.wgsl?raw';
import { quadValuesWgsl, quadsShareRows } from '../src/gpu/quadLayout';
import { fillWgsl } from '../src/gpu/wgslTemplate';
import { median } from './stats.ts';

export interface GemmConfig {
  /**
   * 'tiled': operand tiles staged in workgroup memory; 'direct': register blocks read from storage;
   * 'quad': direct, with each quad's shared rows of A loaded once and spread by quadBroadcast.
   */
  kind: 'tiled' | 'direct' | 'quad';
  /** Workgroup size (WX along N, WY along M). */
  WX: number;
  WY: number;
  /** Rows per invocation. */
  TM: number;
  /** vec4 columns per invocation: an invocation computes TM × 4·TNV outputs. */
  TNV: number;
  /** K step of a tiled kernel (a multiple of 4); unused by direct kernels. */
  BK: number;
}

export interface GemmResult {
  config: GemmConfig;
  label: string;
  gflops: number;
  medianMs: number;
  maxRelErr: number;
}

export interface GemmPeak {
  M: number;
  N: number;
  K: number;
  best: GemmResult;
  all: GemmResult[];
  /** Configurations that could not run on this adapter (limits, sizes) or failed the check, with the reason. */
  skipped: { label: string; reason: string }[];
}

const tiled = (TM: number, TNV: number, WX: number, WY: number, BK: number): GemmConfig => ({ kind: 'tiled', TM, TNV, WX, WY, BK });
const direct = (TM: number, TNV: number, WX: number, WY: number): GemmConfig => ({ kind: 'direct', TM, TNV, WX, WY, BK: 4 });
const quad = (TM: number, TNV: number, WX: number, WY: number): GemmConfig => ({ kind: 'quad', TM, TNV, WX, WY, BK: 4 });

export const DEFAULT_GEMM_CONFIGS: GemmConfig[] = [
  // Workgroup-memory tiles: BM × BN = TM·WY × 4·TNV·WX.
  tiled(4, 1, 16, 16, 16), //  64× 64 tile, 4×4 per invocation
  tiled(4, 2, 8, 8, 32), //  32× 64, 4×8
  tiled(8, 2, 8, 8, 16), //  64× 64, 8×8
  tiled(8, 2, 4, 4, 16), //  32× 32, 8×8
  tiled(8, 2, 4, 4, 32), //  32× 32, 8×8, deeper K step
  tiled(8, 2, 8, 4, 16), //  32× 64, 8×8
  tiled(8, 2, 16, 8, 8), //  64×128, 8×8
  // Register blocks straight from storage.
  direct(4, 1, 8, 8),
  direct(4, 2, 8, 8),
  direct(8, 1, 4, 4),
  direct(8, 2, 4, 4),
  direct(8, 2, 8, 8),
  direct(8, 2, 16, 4),
  direct(16, 1, 4, 4),
  // Quad-shared rows (adapters with subgroups whose quads lie in one row of the workgroup).
  quad(8, 2, 8, 8),
  quad(12, 2, 8, 8),
  quad(16, 2, 8, 4),
];

export function gemmLabel(c: GemmConfig): string {
  const base = `${c.kind}_wg${c.WX}x${c.WY}_TM${c.TM}_TN${4 * c.TNV}`;
  return c.kind === 'tiled' ? `${base}_BK${c.BK}_tile${c.TM * c.WY}x${4 * c.TNV * c.WX}` : base;
}

/** The unrolled register-block code of a configuration, for the placeholders of gemm_peak.wgsl. */
export function gemmWgsl(source: string, c: GemmConfig): string {
  const rows = [...Array(c.TM).keys()];
  const cols = [...Array(c.TNV).keys()];
  const ks = [0, 1, 2, 3];
  const acc = rows.flatMap((i) => cols.map((j) => `var c${i}_${j} = vec4<f32>(0.0);`));
  const loadShared = [
    ...rows.map((i) => `let a${i} = As[(r + ${i}u) * BKV + kv];`),
    ...ks.flatMap((k) => cols.map((j) => `let b${k}_${j} = Bs[(kv * 4u + ${k}u) * BNV + cv + ${j}u];`)),
  ];
  const quadA = (i: number) => [`let q${i} = Af[(rowBase + ${i}u) * dims.K + kv * 4u + quad_lane];`, `let a${i} = ${quadValuesWgsl(`q${i}`)};`];
  const loadGlobal = [
    ...(c.kind === 'quad' ? ['let quad_lane = sg_lane & 3u;'] : []),
    ...rows.flatMap((i) => (c.kind === 'quad' ? quadA(i) : [`let a${i} = A[(rowBase + ${i}u) * KV + kv];`])),
    ...ks.flatMap((k) => cols.map((j) => `let b${k}_${j} = B[(kv * 4u + ${k}u) * NV + colBase + ${j}u];`)),
  ];
  const fma = ks.flatMap((k) => rows.flatMap((i) => cols.map((j) => `c${i}_${j} = fma(vec4<f32>(a${i}.${'xyzw'[k]}), b${k}_${j}, c${i}_${j});`)));
  const store = rows.flatMap((i) => cols.map((j) => `C[(rowBase + ${i}u) * NV + colBase + ${j}u] = c${i}_${j};`));
  const join = (lines: string[], indent: string) => lines.join(`\n${indent}`);
  return fillWgsl(
    source,
    {
      WX: c.WX,
      WY: c.WY,
      TM: c.TM,
      TNV: c.TNV,
      BK: c.BK,
      ENABLE: c.kind === 'quad' ? 'enable subgroups;' : '',
      DIRECT_PARAMS: c.kind === 'quad' ? ', @builtin(subgroup_invocation_id) sg_lane: u32' : '',
      ACC_DECL: join(acc, '  '),
      LOAD_SHARED: join(loadShared, '      '),
      LOAD_GLOBAL: join(loadGlobal, '    '),
      FMA: join(fma, '    '),
      STORE: join(store, '  '),
    },
    `gemm_peak.wgsl ${gemmLabel(c)}`,
  );
}

const entryPointOf = (c: GemmConfig) => (c.kind === 'tiled' ? 'main_tiled' : 'main_direct');

/** dims, A, B, C; quad kernels bind A at binding 4 (as array<f32>) instead of binding 1. */
function bindings(c: GemmConfig, [dims, a, b, out]: GPUBuffer[]): GPUBindGroupEntry[] {
  const used =
    c.kind === 'quad'
      ? [
          [0, dims],
          [4, a],
          [2, b],
          [3, out],
        ]
      : [
          [0, dims],
          [1, a],
          [2, b],
          [3, out],
        ];
  return used.map(([binding, buffer]) => ({ binding: binding as number, resource: { buffer: buffer as GPUBuffer } }));
}

/** One product, finished: what a timed run measures. */
async function dispatchAndWait(device: GPUDevice, pipeline: GPUComputePipeline, group: GPUBindGroup, x: number, y: number): Promise<void> {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(x, y);
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}

export interface GemmPeakOptions {
  /**
   * First square size tried (default 768: the paper's width, and a multiple of every tile here,
   * 12-row blocks included); doubled while the best run is shorter than minMs, up to maxSize (6144, and
   * no larger than a buffer the device can bind).
   */
  size?: number;
  maxSize?: number;
  minMs?: number;
  configs?: GemmConfig[];
  /** Timed repetitions per configuration (after one warm-up run that is also checked); the median counts. */
  reps?: number;
  log?: (msg: string) => void;
}

/**
 * Runs every configuration on an S×S×S product and keeps the fastest correct one. S starts at `size` and
 * doubles while the best run takes less than `minMs` (so a fast GPU is not measured on launch overhead).
 */
export async function measureGemmPeak(device: GPUDevice, opts: GemmPeakOptions = {}): Promise<GemmPeak> {
  // No larger than one operand buffer the device can bind (S²·4 bytes).
  const bindable = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const maxSize = Math.min(opts.maxSize ?? 6144, Math.floor(Math.sqrt(bindable / 4)));
  const minMs = opts.minMs ?? 50;
  let size = opts.size ?? 768;
  for (;;) {
    const r = await measureAt(device, size, size, size, opts);
    if (r.best.medianMs >= minMs || size * 2 > maxSize) return r;
    (opts.log ?? (() => {}))(`gemm: best run ${r.best.medianMs.toFixed(2)} ms at ${size}³ is too short to time; doubling`);
    size *= 2;
  }
}

async function measureAt(device: GPUDevice, M: number, N: number, K: number, opts: GemmPeakOptions): Promise<GemmPeak> {
  const reps = opts.reps ?? 5;
  const configs = opts.configs ?? DEFAULT_GEMM_CONFIGS;
  const log = opts.log ?? (() => {});
  // Deterministic inputs in [-1, 1).
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed / 2 ** 32) * 2 - 1;
  };
  const a = Float32Array.from({ length: M * K }, rand);
  const b = Float32Array.from({ length: K * N }, rand);
  const mk = (label: string, data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | null, size: number, usage: number) => {
    const buf = device.createBuffer({ label, size, usage });
    if (data) device.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  const bufA = mk('gemm A', a, a.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const bufB = mk('gemm B', b, b.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const bufC = mk('gemm C', null, M * N * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  const dimsBuf = mk('gemm dims', new Uint32Array([M, N, K, 0]), 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  const staging = mk('gemm readback', null, M * N * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  const zeros = new Float32Array(M * N);
  // Sampled entries of the exact product, and Σ|a·b| for the error scale.
  const samples = Array.from({ length: 64 }, (_, s) => [(s * 7919) % M, (s * 104729 + 13) % N]);
  const exact = samples.map(([r, c]) => {
    let s = 0;
    let mag = 0;
    for (let k = 0; k < K; k++) {
      s += a[r * K + k] * b[k * N + c];
      mag += Math.abs(a[r * K + k] * b[k * N + c]);
    }
    return [s, mag];
  });
  const flops = 2 * M * N * K;
  const all: GemmResult[] = [];
  const skipped: { label: string; reason: string }[] = [];
  const lim = device.limits;
  try {
    for (const c of configs) {
      const label = gemmLabel(c);
      const BM = c.TM * c.WY;
      const BN = 4 * c.TNV * c.WX;
      const wgBytes = c.kind === 'tiled' ? (BM * c.BK + c.BK * BN) * 4 : 0;
      let reason = '';
      if (M % BM || N % BN || K % c.BK || c.BK % 4) reason = `${M}×${N}×${K} is not a multiple of the ${BM}×${BN}×${c.BK} tile`;
      else if (c.WX * c.WY > lim.maxComputeInvocationsPerWorkgroup || c.WX > lim.maxComputeWorkgroupSizeX || c.WY > lim.maxComputeWorkgroupSizeY) {
        reason = `workgroup ${c.WX}×${c.WY} exceeds the limits`;
      } else if (wgBytes > lim.maxComputeWorkgroupStorageSize) reason = `${wgBytes} bytes of workgroup memory exceed the limit`;
      else if (c.kind === 'quad' && !(await quadsShareRows(device, c.WX, c.WY))) {
        reason = 'no subgroups, or quads that span rows of the workgroup';
      }
      if (reason) {
        skipped.push({ label, reason });
        continue;
      }
      const module = device.createShaderModule({ label, code: gemmWgsl(gemmSource, c) });
      const entryPoint = entryPointOf(c);
      let pipeline: GPUComputePipeline;
      try {
        pipeline = await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint } });
      } catch (e) {
        skipped.push({ label, reason: `pipeline: ${(e as Error).message}` });
        continue;
      }
      const group = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: bindings(c, [dimsBuf, bufA, bufB, bufC]),
      });
      const run = () => dispatchAndWait(device, pipeline, group, N / BN, M / BM);
      device.queue.writeBuffer(bufC, 0, zeros); // no configuration may pass on its predecessor's result
      await run(); // warm-up (and the result we check)
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(bufC, 0, staging, 0, M * N * 4);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange());
      let maxRelErr = 0;
      samples.forEach(([r, col], s) => {
        const [v, mag] = exact[s];
        maxRelErr = Math.max(maxRelErr, Math.abs(out[r * N + col] - v) / Math.max(mag, 1e-30));
      });
      staging.unmap();
      // f32 accumulation of K terms: worst case K·2^-24 of Σ|a·b| (4.6e-5 at K = 768); a wrong kernel is O(1) off.
      if (!(maxRelErr < K * 2 ** -24)) {
        skipped.push({ label, reason: `wrong result (max error ${maxRelErr.toExponential(2)} of Σ|a·b|)` });
        continue;
      }
      const times: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        await run();
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      const r: GemmResult = { config: c, label, gflops: flops / (ms * 1e6), medianMs: ms, maxRelErr };
      log(`gemm ${M}³ ${label}: ${r.gflops.toFixed(2)} GFLOP/s (${ms.toFixed(1)} ms)`);
      all.push(r);
    }
  } finally {
    for (const buf of [bufA, bufB, bufC, dimsBuf, staging]) buf.destroy();
  }
  if (all.length === 0) throw new Error(`gemm peak: no configuration ran (${skipped.map((s) => `${s.label}: ${s.reason}`).join('; ')})`);
  const best = all.reduce((x, y) => (y.gflops > x.gflops ? y : x));
  return { M, N, K, best, all, skipped };
}

export interface GemmRunner {
  label: string;
  /** 2·M·N·K. */
  flops: number;
  /** One product, finished (dispatch + queue.onSubmittedWorkDone()). */
  run: () => Promise<void>;
  destroy: () => void;
}

/**
 * One configuration kept ready to run again (unchecked: measureGemmPeak checked it), so the benchmark can
 * re-time the peak under the same machine load as the kernels it is compared with.
 */
export async function gemmRunner(device: GPUDevice, c: GemmConfig, M: number, N: number, K: number): Promise<GemmRunner> {
  const BM = c.TM * c.WY;
  const BN = 4 * c.TNV * c.WX;
  if (M % BM || N % BN || K % c.BK || c.BK % 4) throw new Error(`gemm ${gemmLabel(c)}: ${M}×${N}×${K} is not a multiple of the tile`);
  const label = gemmLabel(c);
  const bufs = [16, M * K * 4, K * N * 4, M * N * 4].map((size, i) =>
    device.createBuffer({ label: `gemm runner ${i}`, size, usage: (i === 0 ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST }),
  );
  device.queue.writeBuffer(bufs[0], 0, new Uint32Array([M, N, K, 0]));
  device.queue.writeBuffer(bufs[1], 0, new Float32Array(M * K).fill(0.5));
  device.queue.writeBuffer(bufs[2], 0, new Float32Array(K * N).fill(0.25));
  const module = device.createShaderModule({ label, code: gemmWgsl(gemmSource, c) });
  const pipeline = await device.createComputePipelineAsync({
    label,
    layout: 'auto',
    compute: { module, entryPoint: entryPointOf(c) },
  });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: bindings(c, bufs) });
  return {
    label,
    flops: 2 * M * N * K,
    run: () => dispatchAndWait(device, pipeline, group, N / BN, M / BM),
    destroy: () => {
      for (const b of bufs) b.destroy();
    },
  };
}
