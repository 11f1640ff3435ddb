// onnxruntime-web ships one build per backend set: the WebGPU build (JSEP: WebGPU and WASM EPs, a 28 MB
// wasm) and the WASM-only build (a 14 MB wasm). The query encoder loads the one its backend needs, and
// the page's offline cache stores that one (src/ui/offline.ts).
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import wasmOnlyUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

export type EncoderBackend = 'webgpu' | 'wasm';

/** The wasm binary of the onnxruntime-web build that runs `backend`. */
export function ortWasmUrl(backend: EncoderBackend): string {
  return backend === 'webgpu' ? jsepWasmUrl : wasmOnlyUrl;
}
