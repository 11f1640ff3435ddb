// GPU top-k (shaders/topk.wgsl): bitonic sort of CHUNK pairs per workgroup, keeping the best P,
// repeated until one list of P remains. Only that list's first k pairs are read back.
import topkSource from '../../shaders/topk.wgsl?raw';
import { fillWgsl } from './wgslTemplate';

export const TOPK_THREADS = 256;
export const TOPK_CHUNK = TOPK_THREADS * 4;
/** Largest k: P must stay ≤ CHUNK / 2 so that every step at least halves the candidates. */
export const MAX_K = TOPK_CHUNK / 2;
export const TOPK_PARAMS_BYTES = 16;

export function keptPerGroup(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new Error(`top-k: k must be an integer from 1 to ${MAX_K}, got ${k}`);
  let p = 1;
  while (p < k) p *= 2;
  return p;
}

/** Input sizes of each step for n scores and k, e.g. n=1e6, P=16: [1e6, 15632, 256] → 1 list. */
export function topkSteps(n: number, p: number): { count: number; groups: number }[] {
  const steps: { count: number; groups: number }[] = [];
  let count = n;
  do {
    const groups = Math.ceil(count / TOPK_CHUNK);
    steps.push({ count, groups });
    count = groups * p;
  } while (steps[steps.length - 1].groups > 1);
  return steps;
}

export function topkBindGroupLayout(device: GPUDevice): GPUBindGroupLayout {
  const c = GPUShaderStage.COMPUTE;
  return device.createBindGroupLayout({
    label: 'topk',
    entries: [
      { binding: 0, visibility: c, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: TOPK_PARAMS_BYTES } },
      { binding: 1, visibility: c, buffer: { type: 'read-only-storage' } },
      { binding: 2, visibility: c, buffer: { type: 'read-only-storage' } },
      { binding: 3, visibility: c, buffer: { type: 'storage' } },
    ],
  });
}

export async function createTopkPipeline(device: GPUDevice, layout: GPUBindGroupLayout, first: boolean): Promise<GPUComputePipeline> {
  const code = fillWgsl(topkSource, { FIRST: first, THREADS: TOPK_THREADS }, 'topk.wgsl');
  return device.createComputePipelineAsync({
    label: first ? 'topk-first' : 'topk-merge',
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module: device.createShaderModule({ label: 'topk', code }), entryPoint: 'main' },
  });
}
