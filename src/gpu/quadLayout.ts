// Quad-shared loads (the layer kernel's quadA, the peak GEMM's 'quad' kind): the four lanes of a
// subgroup quad need the same rows, so each loads one of four adjacent values and quadBroadcast hands
// them round. That is only right where every quad lies within one row of the workgroup, which WebGPU
// does not promise: quadsShareRows asks the device with a dispatch of shaders/quad_layout.wgsl.
import quadSource from '../../shaders/quad_layout.wgsl?raw';
import { type ComputeProgram, PipelineCache } from './pipelineCache';
import { fillWgsl } from './wgslTemplate';

const WORKGROUPS = 8;
const checked = new WeakMap<GPUDevice, Map<string, Promise<boolean>>>();

/** WGSL for the four values of the caller's quad, lane 0 first, given each lane's own value `v` (an f32). */
export function quadValuesWgsl(v: string): string {
  return `vec4<f32>(quadBroadcast(${v}, 0u), quadBroadcast(${v}, 1u), quadBroadcast(${v}, 2u), quadBroadcast(${v}, 3u))`;
}

/**
 * Whether, in a wx × wy workgroup on this device, the four lanes of every quad are four consecutive
 * threads x = 4q .. 4q+3 of one row (the same local_invocation_id.y), in lane order. False without the
 * subgroups feature or when wx is not a multiple of 4.
 * Answered once per device and shape. The check runs its own small shader: a compiler that picks the
 * subgroup width per pipeline could lay out another pipeline's lanes differently, which the parity
 * tests would then catch on that device.
 */
export function quadsShareRows(device: GPUDevice, wx: number, wy: number): Promise<boolean> {
  const key = `${wx}x${wy}`;
  let perDevice = checked.get(device);
  if (!perDevice) {
    perDevice = new Map();
    checked.set(device, perDevice);
  }
  let answer = perDevice.get(key);
  if (!answer) {
    answer = check(device, wx, wy);
    perDevice.set(key, answer);
  }
  return answer;
}

async function check(device: GPUDevice, wx: number, wy: number): Promise<boolean> {
  if (!device.features.has('subgroups') || wx % 4 !== 0) return false;
  try {
    return (await quadRowMismatches(device, wx, wy)) === 0;
  } catch (e) {
    // The product falls back to the kernel without quads; the quad-check test in e2e/scorer.spec.ts fails.
    console.warn(`quad layout check failed, not using quad-shared loads: ${(e as Error).message}`);
    return false;
  }
}

/**
 * Runs the check for a wx × wy workgroup: how many invocations share a quad with a thread of another
 * row (0 where quad-shared loads are safe). Throws where the device lacks subgroups or the dispatch fails.
 */
export async function quadRowMismatches(device: GPUDevice, wx: number, wy: number): Promise<number> {
  if (!device.features.has('subgroups')) throw new Error('quad layout check: the device has no subgroups feature');
  const program: ComputeProgram = { label: 'quad-layout', code: fillWgsl(quadSource, { WX: wx, WY: wy }, 'quad_layout.wgsl'), bindings: ['write'] };
  const cache = PipelineCache.of(device);
  // Rejects by itself on a shader or layout error; the error scope below covers only the synchronous
  // calls between its push and pop, so no other work on the device can land in it.
  const pipeline = await cache.pipeline(program);
  const counter = device.createBuffer({ label: 'quad-layout count', size: 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ label: 'quad-layout readback', size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    device.pushErrorScope('validation');
    const bindGroup = cache.bindGroup(program, [counter]);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(WORKGROUPS);
    pass.end();
    encoder.copyBufferToBuffer(counter, 0, readback, 0, 4);
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`quad layout check: ${error.message}`);
    await readback.mapAsync(GPUMapMode.READ);
    const mismatches = new Uint32Array(readback.getMappedRange())[0];
    readback.unmap();
    return mismatches;
  } finally {
    counter.destroy();
    readback.destroy();
  }
}
