// Whether a device can run the QUAD_A layer kernel: it has subgroups, and a test dispatch of the
// kernel's workgroup shape shows every quad inside one row of the workgroup (shaders/quad_layout.wgsl).
import quadSource from '../../shaders/quad_layout.wgsl?raw';
import { fillWgsl } from './wgslTemplate';

const WORKGROUPS = 8;
const checked = new WeakMap<GPUDevice, Map<string, Promise<boolean>>>();

/** The workgroup shape of a tiling: BN / (4·TNV) threads across columns, BM / TM across rows. */
export function quadsShareRows(device: GPUDevice, t: { BM: number; BN: number; TM: number; TNV: number }): Promise<boolean> {
  const wx = t.BN / (4 * t.TNV);
  const wy = t.BM / t.TM;
  const key = `${wx}x${wy}`;
  let perDevice = checked.get(device);
  if (!perDevice) checked.set(device, (perDevice = new Map()));
  let answer = perDevice.get(key);
  if (!answer) perDevice.set(key, (answer = check(device, wx, wy)));
  return answer;
}

async function check(device: GPUDevice, wx: number, wy: number): Promise<boolean> {
  if (!device.features.has('subgroups') || wx % 4 !== 0) return false;
  try {
    return (await quadRowMismatches(device, wx, wy)) === 0;
  } catch {
    return false;
  }
}

/**
 * Runs the check for a wx × wy workgroup: how many invocations share a quad with a thread of another
 * row (0 where QUAD_A is safe). Throws where the device lacks subgroups or the dispatch fails.
 */
export async function quadRowMismatches(device: GPUDevice, wx: number, wy: number): Promise<number> {
  if (!device.features.has('subgroups')) throw new Error('quad layout check: the device has no subgroups feature');
  const counter = device.createBuffer({ label: 'quad-layout count', size: 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ label: 'quad-layout readback', size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.pushErrorScope('validation');
  try {
    const module = device.createShaderModule({ label: 'quad-layout', code: fillWgsl(quadSource, { WX: wx, WY: wy }, 'quad_layout.wgsl') });
    const pipeline = await device.createComputePipelineAsync({ label: 'quad-layout', layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: counter } }] });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(WORKGROUPS);
    pass.end();
    encoder.copyBufferToBuffer(counter, 0, readback, 0, 4);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const mismatches = new Uint32Array(readback.getMappedRange())[0];
    readback.unmap();
    return mismatches;
  } finally {
    const error = await device.popErrorScope();
    counter.destroy();
    readback.destroy();
    if (error) throw new Error(`quad layout check: ${error.message}`);
  }
}
