// GPU top-k (shaders/topk.wgsl): bitonic sort of CHUNK pairs per workgroup, keeping the best P,
// repeated until one list of P remains. Only that list's first k pairs are read back.
import topkSource from '../../shaders/topk.wgsl?raw';
import type { ComputeProgram } from './pipelineCache';
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

/** Step 0 (`first`) reads the scores and the keep mask, later steps merge pairs: params, scores, pairs in, pairs out, keep mask. */
export function topkProgram(first: boolean): ComputeProgram {
  return {
    label: first ? 'topk-first' : 'topk-merge',
    code: fillWgsl(topkSource, { FIRST: first, THREADS: TOPK_THREADS }, 'topk.wgsl'),
    bindings: [{ uniform: TOPK_PARAMS_BYTES }, 'read', 'read', 'write', 'read'],
  };
}

/** Index of a top-k place no kept document took (fewer kept documents than k). */
export const TOPK_NONE = 0xffff_ffff;
