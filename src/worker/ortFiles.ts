// onnxruntime-web ships one build per backend set: the WebGPU build (JSEP: WebGPU and WASM EPs, a 28 MB
// wasm) and the WASM-only build (a 14 MB wasm). The query encoder loads the one its backend needs, and
// the page's offline cache stores that one (src/ui/offline.ts).
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import wasmOnlyUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';

import { gunzipBounded } from '../core/formats/gzip.ts';
import { readBodyBounded } from './boundedFetch.ts';

export type EncoderBackend = 'webgpu' | 'wasm';

/** The largest wasm binary a .gz may expand to (the JSEP build is 28 MB). */
const MAX_WASM_BYTES = 64 * 1024 * 1024;

/**
 * The build's wasm from its gzip copy beside it (tools/precompressWasm.ts writes one at build time):
 * 3.7 MB over a plain static host instead of 14 MB. Null where there is none (the dev server, a
 * host that dropped it): onnxruntime then fetches the .wasm itself.
 */
export async function fetchPrecompressedWasm(url: string, onBytes?: (loaded: number, total: number) => void): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await fetch(`${url}.gz`);
  } catch {
    return null;
  }
  if (!res.ok) return null;
  let bytes: Uint8Array;
  try {
    bytes = await readBodyBounded(res, `${url}.gz`, { max: MAX_WASM_BYTES }, onBytes);
  } catch {
    return null; // too large to be onnxruntime's: let onnxruntime fetch the .wasm itself
  }
  // A host that sends .gz files with Content-Encoding: gzip has the browser decode it: already the wasm ("\0asm").
  if (bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) return bytes;
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return null; // not gzip (a dev server's HTML fallback)
  return gunzipBounded(bytes, MAX_WASM_BYTES, `${url}.gz`);
}

const prefetched = new Map<string, Promise<Uint8Array | null>>();

/**
 * The build's wasm as fetchPrecompressedWasm gets it, fetched once per build: the engine starts it
 * with a progress callback (the progress bar shows the runtime's bytes), the encoder then awaits the
 * same promise. A failed fetch is not kept.
 */
export function prefetchOrtWasm(backend: EncoderBackend, onBytes?: (loaded: number, total: number) => void): Promise<Uint8Array | null> {
  const url = ortWasmUrl(backend);
  let p = prefetched.get(url);
  if (!p) {
    p = fetchPrecompressedWasm(url, onBytes).then((b) => {
      if (!b) prefetched.delete(url);
      return b;
    });
    prefetched.set(url, p);
  }
  return p;
}

/** The wasm binary of the onnxruntime-web build that runs `backend`. */
export function ortWasmUrl(backend: EncoderBackend): string {
  return backend === 'webgpu' ? jsepWasmUrl : wasmOnlyUrl;
}
