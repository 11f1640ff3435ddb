// onnxruntime-web ships one build per backend set: the WebGPU build (JSEP: WebGPU and WASM EPs, a 28 MB
// wasm) and the WASM-only build (a 14 MB wasm). The query encoder loads the one its backend needs, and
// the page's offline cache stores that one (src/ui/offline.ts).
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import wasmOnlyUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

import { gunzipBounded } from '../core/formats/gzip.ts';

export type EncoderBackend = 'webgpu' | 'wasm';

/** The largest wasm binary a .gz may expand to (the JSEP build is 28 MB). */
const MAX_WASM_BYTES = 64 * 1024 * 1024;

/**
 * The build's wasm from its gzip copy beside it (tools/precompressWasm.ts writes one at build time):
 * 3.7 MB over a plain static host instead of 14 MB. Null where there is none (the dev server, a
 * host that dropped it): onnxruntime then fetches the .wasm itself.
 */
export async function fetchPrecompressedWasm(url: string): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await fetch(`${url}.gz`);
  } catch {
    return null;
  }
  if (!res.ok) return null;
  const bytes = new Uint8Array(await res.arrayBuffer());
  // A host that sends .gz files with Content-Encoding: gzip has the browser decode it: already the wasm ("\0asm").
  if (bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) return bytes;
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return null; // not gzip (a dev server's HTML fallback)
  return gunzipBounded(bytes, MAX_WASM_BYTES, `${url}.gz`);
}

/** The wasm binary of the onnxruntime-web build that runs `backend`. */
export function ortWasmUrl(backend: EncoderBackend): string {
  return backend === 'webgpu' ? jsepWasmUrl : wasmOnlyUrl;
}
