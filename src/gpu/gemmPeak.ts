// Measures the adapter's f32 matrix-multiply peak with the best of several tile configurations of a
// plain tiled, register-blocked GEMM (shaders/gemm_peak.wgsl). The benchmark divides our q-net's GFLOP/s
// by this figure. Every configuration's result is checked at sampled entries against a Float64 product,
// so a broken kernel cannot report a fantasy peak.
import gemmSource from '../../shaders/gemm_peak.wgsl?raw';
import { fillWgsl } from './wgslTemplate';

export interface GemmConfig {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  /** vec4 columns per invocation: an invocation computes TM × 4·TNV outputs. */
  TNV: number;
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
  /** Configurations that could not run on this adapter (limits), with the reason. */
  skipped: { label: string; reason: string }[];
}

export const DEFAULT_GEMM_CONFIGS: GemmConfig[] = [
  { BM: 32, BN: 32, BK: 16, TM: 4, TNV: 1 }, //  8× 8 invocations, 4×4 each
  { BM: 64, BN: 64, BK: 16, TM: 4, TNV: 1 }, // 16×16, 4×4
  { BM: 64, BN: 64, BK: 8, TM: 8, TNV: 1 }, // 16× 8, 8×4
  { BM: 64, BN: 64, BK: 16, TM: 8, TNV: 2 }, //  8× 8, 8×8
  { BM: 128, BN: 64, BK: 8, TM: 8, TNV: 2 }, //  8×16, 8×8
  { BM: 128, BN: 128, BK: 8, TM: 8, TNV: 2 }, // 16×16, 8×8
  { BM: 32, BN: 64, BK: 32, TM: 4, TNV: 2 }, //  8× 8, 4×8
  { BM: 16, BN: 64, BK: 16, TM: 2, TNV: 4 }, //  4× 8, 2×16
  { BM: 64, BN: 32, BK: 16, TM: 8, TNV: 2 }, //  4× 8, 8×8
];

export function gemmLabel(c: GemmConfig): string {
  return `BM${c.BM}_BN${c.BN}_BK${c.BK}_TM${c.TM}_TN${4 * c.TNV}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface GemmPeakOptions {
  M?: number;
  N?: number;
  K?: number;
  configs?: GemmConfig[];
  /** Timed repetitions per configuration (after one warm-up run); the median counts. */
  reps?: number;
  log?: (msg: string) => void;
}

export async function measureGemmPeak(device: GPUDevice, opts: GemmPeakOptions = {}): Promise<GemmPeak> {
  const M = opts.M ?? 1024;
  const N = opts.N ?? 1024;
  const K = opts.K ?? 1024;
  const reps = opts.reps ?? 5;
  const configs = opts.configs ?? DEFAULT_GEMM_CONFIGS;
  const log = opts.log ?? (() => {});
  // Deterministic inputs in [-1, 1).
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const a = Float32Array.from({ length: M * K }, rand);
  const b = Float32Array.from({ length: K * N }, rand);
  const mk = (label: string, data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | null, size: number, usage: number) => {
    const buf = device.createBuffer({ label, size, usage });
    if (data) device.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  const bufA = mk('gemm A', a, a.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const bufB = mk('gemm B', b, b.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const bufC = mk('gemm C', null, M * N * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const dimsBuf = mk('gemm dims', new Uint32Array([M, N, K, 0]), 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  const staging = mk('gemm readback', null, M * N * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  // Sampled entries of the exact product.
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
      const wx = c.BN / 4 / c.TNV;
      const wy = c.BM / c.TM;
      const wgBytes = (c.BK * c.BM + c.BK * c.BN) * 4;
      let reason = '';
      if (M % c.BM || N % c.BN || K % c.BK || c.BN % (4 * c.TNV) || c.BM % c.TM) reason = 'sizes are not multiples of the tile';
      else if (wx * wy > lim.maxComputeInvocationsPerWorkgroup || wx > lim.maxComputeWorkgroupSizeX || wy > lim.maxComputeWorkgroupSizeY) reason = `workgroup ${wx}×${wy} exceeds the limits`;
      else if (wgBytes > lim.maxComputeWorkgroupStorageSize) reason = `${wgBytes} bytes of workgroup memory exceed the limit`;
      if (reason) {
        skipped.push({ label, reason });
        continue;
      }
      const code = fillWgsl(gemmSource, { BM: c.BM, BN: c.BN, BK: c.BK, TM: c.TM, TNV: c.TNV }, `gemm_peak.wgsl ${label}`);
      const module = device.createShaderModule({ label, code });
      const pipeline = await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
      const group = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [dimsBuf, bufA, bufB, bufC].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const run = async () => {
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(N / c.BN, M / c.BM);
        pass.end();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
      };
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
      // f32 accumulation of K terms: worst case K·2^-24 of Σ|a·b| (6e-5 at K = 1024); a wrong kernel is O(1) off.
      if (!(maxRelErr < (K * 2 ** -24))) {
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
      log(`gemm ${label}: ${r.gflops.toFixed(2)} GFLOP/s (${ms.toFixed(1)} ms)`);
      all.push(r);
    }
  } finally {
    for (const buf of [bufA, bufB, bufC, dimsBuf, staging]) buf.destroy();
  }
  if (all.length === 0) throw new Error(`gemm peak: no configuration ran (${skipped.map((s) => `${s.label}: ${s.reason}`).join('; ')})`);
  const best = all.reduce((x, y) => (y.gflops > x.gflops ? y : x));
  return { M, N, K, best, all, skipped };
}
