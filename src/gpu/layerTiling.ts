// The layer kernel's tiling policy: the tile sizes a q-net layer runs with (per layer: whole rows
// for narrow layers), which tilings ship for real and CPU-emulated adapters (chosen by measurement),
// and the device checks that refuse a tiling before any pipeline is built.
import { hiddenOutDims } from '../core/qnet';
import { isCpuEmulated } from './device';
import { quadsShareRows } from './quadLayout';

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
    throw new Error(
      `q-net tiling ${JSON.stringify(tiling)}: quadA needs the 'subgroups' feature with every quad four consecutive threads of one row of the workgroup, and this device has not`,
    );
  }
}

function checkLayerTiling(t: LayerTiling, limits: GPUSupportedLimits): void {
  const { wx, wy } = workgroupShape(t);
  const ok = Number.isInteger(wx) && Number.isInteger(wy) && t.BK % 4 === 0 && wx >= 1 && wy >= 1;
  if (!ok) throw new Error(`q-net tiling ${JSON.stringify(t)}: BN must divide by 4·TNV, BM by TM, BK by 4`);
  if (t.quadA && (!t.direct || wx % 4 !== 0))
    throw new Error(`q-net tiling ${JSON.stringify(t)}: quadA needs direct and a multiple of 4 threads across columns`);
  if (t.rowInRegisters && !t.quadA) throw new Error(`q-net tiling ${JSON.stringify(t)}: wholeRow needs quadA (its row sums go through quad swaps)`);
  if (wx * wy > limits.maxComputeInvocationsPerWorkgroup)
    throw new Error(`q-net tiling ${JSON.stringify(t)}: ${wx * wy} threads exceed the device's ${limits.maxComputeInvocationsPerWorkgroup}`);
  // The direct kernel keeps one-entry stand-ins for the operand tiles (qnet_layer.wgsl).
  const tileFloats = t.direct ? 8 : t.BM * t.BK + t.BK * t.BN;
  const bytes = (tileFloats + (t.BM * wx) / (t.rowInRegisters ? 4 : 1)) * 4;
  if (bytes > limits.maxComputeWorkgroupStorageSize)
    throw new Error(`q-net tiling ${JSON.stringify(t)}: ${bytes} bytes of workgroup memory exceed the device's ${limits.maxComputeWorkgroupStorageSize}`);
}
