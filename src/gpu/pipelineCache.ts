// One place where compute programs become pipelines and bind groups. A program is a plain
// descriptor (label, WGSL, the bindings of its group 0); the cache builds each distinct program
// once per device (two scorers of one q-net share their pipelines, layers of one shape share one),
// and one bind group layout per distinct binding list.

/**
 * One binding of group 0, in binding order: a uniform read with a dynamic offset (`bytes` per
 * slot), a read-only storage buffer, or a read-write one.
 */
export type ProgramBinding = { uniform: number } | 'read' | 'write';

export interface ComputeProgram {
  label: string;
  code: string;
  bindings: readonly ProgramBinding[];
}

const caches = new WeakMap<GPUDevice, PipelineCache>();

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();

  private constructor(readonly device: GPUDevice) {}

  /** The device's cache. */
  static of(device: GPUDevice): PipelineCache {
    let cache = caches.get(device);
    if (!cache) {
      cache = new PipelineCache(device);
      caches.set(device, cache);
    }
    return cache;
  }

  /** The program's pipeline, built on first use; a failed build is not kept. */
  pipeline(program: ComputeProgram): Promise<GPUComputePipeline> {
    const key = `${program.label}\n${JSON.stringify(program.bindings)}\n${program.code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const { device } = this;
      p = device.createComputePipelineAsync({
        label: program.label,
        layout: device.createPipelineLayout({ bindGroupLayouts: [this.layout(program)] }),
        compute: { module: device.createShaderModule({ label: program.label, code: program.code }), entryPoint: 'main' },
      });
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  /** A bind group for the program: one buffer per binding, in order (uniforms bound one slot wide). */
  bindGroup(program: ComputeProgram, buffers: readonly GPUBuffer[], label = program.label): GPUBindGroup {
    if (buffers.length !== program.bindings.length) throw new Error(`${program.label}: ${buffers.length} buffers for ${program.bindings.length} bindings`);
    return this.device.createBindGroup({
      label,
      layout: this.layout(program),
      entries: buffers.map((buffer, binding) => {
        const b = program.bindings[binding];
        return { binding, resource: typeof b === 'object' ? { buffer, size: b.uniform } : { buffer } };
      }),
    });
  }

  private layout(program: ComputeProgram): GPUBindGroupLayout {
    const key = JSON.stringify(program.bindings);
    let layout = this.layouts.get(key);
    if (!layout) {
      const visibility = GPUShaderStage.COMPUTE;
      layout = this.device.createBindGroupLayout({
        label: program.label,
        entries: program.bindings.map((b, binding) => ({
          binding,
          visibility,
          buffer:
            typeof b === 'object'
              ? { type: 'uniform', hasDynamicOffset: true, minBindingSize: b.uniform }
              : { type: b === 'read' ? 'read-only-storage' : 'storage' },
        })),
      });
      this.layouts.set(key, layout);
    }
    return layout;
  }
}

/** A buffer of at least 16 bytes, its size rounded up to whole words. */
export function createBuffer(device: GPUDevice, label: string, size: number, usage: number): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
}

/** A buffer holding `data` (usage gets COPY_DST). */
export function uploadBuffer(device: GPUDevice, label: string, data: ArrayBufferView, usage: number): GPUBuffer {
  const buf = createBuffer(device, label, data.byteLength, usage | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  return buf;
}
