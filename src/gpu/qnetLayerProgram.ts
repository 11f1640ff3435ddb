// The fused q-net layer kernel (shaders/qnet_layer.wgsl) as a program with explicit shapes:
// one pipeline per distinct (in, out, input format, residual, last) — built once per scorer.
import layerSource from '../../shaders/qnet_layer.wgsl?raw';
import { fillWgsl, wgslF32 } from './wgslTemplate';

/** How layer inputs are packed in 32-bit words (matches FORMAT in the shader). */
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

/** Tile sizes. BM rows × BN columns per block, BK deep; each thread owns TM × TN outputs. */
export interface LayerTiling {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

export const DEFAULT_TILING: LayerTiling = { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 };

export const LAYER_PARAMS_BYTES = 16;

export function layerWgsl(shape: LayerShape, tiling: LayerTiling = DEFAULT_TILING): string {
  return fillWgsl(
    layerSource,
    {
      K: shape.inDim,
      N: shape.outDim,
      STRIDE: shape.strideWords,
      FORMAT: shape.format,
      RESIDUAL: shape.residual,
      LAST: shape.last,
      EPS: wgslF32(shape.eps),
      ...tiling,
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
