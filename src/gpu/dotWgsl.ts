// The program of a zero-layer q-net (dims [d, 1]): score = x · w_out over stored rows
// (shaders/qnet_dot.wgsl around the storage dtype's loader). It takes the layer stack's parameter
// slots (rows, in_offset, score_offset), so both scorers batch and place its scores as a layer's.
import dotSource from '../../shaders/qnet_dot.wgsl?raw';
import { STORAGE_CODECS, type StorageDtype } from '../core/storageCodecs';
import { BATCH_PARAMS_WGSL, LAYER_PARAMS_BYTES, storageLoaderWgsl } from './layerWgsl';
import type { ComputeProgram } from './pipelineCache';
import { fillWgsl } from './wgslTemplate';

/** Documents per workgroup: one thread each. */
export const DOT_ROWS = 64;

/** Group 0: params, x_in, absmax, w_out, scores. */
export const DOT_BINDINGS: ComputeProgram['bindings'] = [{ uniform: LAYER_PARAMS_BYTES }, 'read', 'read', 'read', 'write'];

export function dotProgram(d: number, strideWords: number, dtype: StorageDtype): ComputeProgram {
  const code = fillWgsl(
    dotSource,
    {
      BATCH_PARAMS: BATCH_PARAMS_WGSL,
      K: d,
      STRIDE: strideWords,
      WORD_SHIFT: Math.log2(STORAGE_CODECS[dtype].valuesPerWord),
      ROWS: DOT_ROWS,
      LOADER: storageLoaderWgsl(dtype),
    },
    'qnet_dot.wgsl',
  );
  return { label: `qnet-dot ${d} ${dtype}`, code, bindings: DOT_BINDINGS };
}
