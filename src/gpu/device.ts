// Acquire a WebGPU device with the adapter's largest buffer limits, so document tiles can be big.

export interface ScorerDevice {
  device: GPUDevice;
  adapterInfo: string;
  hasF16: boolean;
}

function describeInfo(i: GPUAdapterInfo): string {
  return [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' / ') || 'unknown adapter';
}

export function describeAdapter(adapter: GPUAdapter): string {
  return describeInfo(adapter.info);
}

/** For a device someone else created (onnxruntime's). */
export function describeDevice(device: GPUDevice): string {
  return describeInfo(device.adapterInfo);
}

/**
 * Headless Chromium 156 on an NVIDIA GPU over Vulkan answered the page's first requestAdapter() with
 * null and every later one with the GPU (seen on an H100): after a null it asks once more.
 */
async function requestAdapter(): Promise<GPUAdapter | null> {
  const options: GPURequestAdapterOptions = { powerPreference: 'high-performance' };
  return (await navigator.gpu.requestAdapter(options)) ?? (await navigator.gpu.requestAdapter(options));
}

export async function requestScorerDevice(): Promise<ScorerDevice> {
  if (typeof navigator === 'undefined' || !navigator.gpu) {
    throw new Error('WebGPU is not available here (navigator.gpu is missing; it needs a secure context such as https or http://127.0.0.1)');
  }
  const adapter = await requestAdapter();
  if (!adapter) throw new Error('WebGPU: no adapter was found');
  const hasF16 = adapter.features.has('shader-f16');
  // Subgroups let CPU-emulated adapters share row loads across a quad (layerTiling.ts).
  const features: GPUFeatureName[] = [];
  if (hasF16) features.push('shader-f16');
  if (adapter.features.has('subgroups')) features.push('subgroups');
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    },
  });
  return { device, adapterInfo: describeAdapter(adapter), hasF16 };
}

/** A CPU implementation of WebGPU (SwiftShader, llvmpipe, WARP …): compute there costs CPU time. */
export function isCpuEmulated(info: GPUAdapterInfo | undefined): boolean {
  const i = info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  const name = `${i?.vendor ?? ''} ${i?.architecture ?? ''} ${i?.device ?? ''} ${i?.description ?? ''}`;
  return !!i?.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp|basic render/i.test(name);
}

/** Whether the browser's default WebGPU adapter is CPU-emulated (false when there is none). */
export async function defaultAdapterIsCpuEmulated(): Promise<boolean> {
  if (typeof navigator === 'undefined' || !navigator.gpu) return false;
  const adapter = await requestAdapter();
  return !!adapter && isCpuEmulated(adapter.info);
}
