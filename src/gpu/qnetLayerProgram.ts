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
}

// Chosen by measurement on SwiftShader ([256,256,256,1], 8k docs): 8×8 registers per thread ran
// 1.8–2.2× faster than 4×4; BM 128, BN 128, BK 32, TM 16 and TNV 4 were all slower.
export const DEFAULT_TILING: LayerTiling = { BM: 64, BN: 64, BK: 16, TM: 8, TNV: 2 };

export function checkTiling(t: LayerTiling, limits: GPUSupportedLimits): void {
  const wx = t.BN / (4 * t.TNV);
  const wy = t.BM / t.TM;
  const ok = Number.isInteger(wx) && Number.isInteger(wy) && t.BK % 4 === 0 && wx >= 1 && wy >= 1;
  if (!ok) throw new Error(`q-net tiling ${JSON.stringify(t)}: BN must divide by 4·TNV, BM by TM, BK by 4`);
  if (wx * wy > limits.maxComputeInvocationsPerWorkgroup) throw new Error(`q-net tiling ${JSON.stringify(t)}: ${wx * wy} threads exceed the device's ${limits.maxComputeInvocationsPerWorkgroup}`);
  const bytes = (t.BM * t.BK + t.BK * t.BN + t.BM * wx) * 4;
  if (bytes > limits.maxComputeWorkgroupStorageSize) throw new Error(`q-net tiling ${JSON.stringify(t)}: ${bytes} bytes of workgroup memory exceed the device's ${limits.maxComputeWorkgroupStorageSize}`);
}

/** The unrolled register block: declarations, the FMAs for four k, and the epilogue stores. */
function registerBlock(t: LayerTiling): { ACC_DECL: string; ACC_FMA: string; ACC_STORE: string } {
  const decl: string[] = [];
  const fma: string[] = [];
  const store: string[] = [];
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
  return { ACC_DECL: decl.join('\n'), ACC_FMA: fma.join('\n'), ACC_STORE: store.join('\n') };
}

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
      ...registerBlock(tiling),
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
