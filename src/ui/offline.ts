// The page's offline support: registers the Workbox service worker that vite-plugin-pwa generates
// (vite.config.ts) and, once the first results are shown (src/ui/main.ts decides when), makes sure
// every file of the two bundles is in the service worker's runtime cache. On a first visit the page is not yet controlled when the
// worker fetches the bundles, so those fetches bypass the service worker; the CACHE_URLS message
// (handled by workbox-routing's default router) fetches whatever is missing through the same
// runtime-caching routes. On later visits the fetches go through the routes and refresh the cache.
/// <reference types="vite-plugin-pwa/client" />
import { registerSW } from 'virtual:pwa-register';
import { ortWasmUrl, type EncoderBackend } from '../worker/ortFiles.ts';
import { MANIFEST_FILE_NAME, MODEL_FILE_NAME, merkleMemberPath, parseIndexManifest, parseModelJson } from '../core/formats/index.ts';
import { MAX_JSON_FILE_BYTES } from '../core/formats/fields.ts';
import { readBodyBounded } from '../worker/boundedFetch.ts';

/** Runtime cache names; they must match the runtimeCaching entries in vite.config.ts. */
export const BUNDLE_CACHE = 'hypencoder-bundles';
export const ORT_CACHE = 'hypencoder-ort';

/** Registers the service worker; resolves with its registration, or undefined where there is none (no support, the dev server). */
export function registerOffline(): Promise<ServiceWorkerRegistration | undefined> {
  if (!('serviceWorker' in navigator)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    registerSW({ immediate: true, onRegisteredSW: (_url, reg) => resolve(reg), onRegisterError: () => resolve(undefined) });
    // The dev server's virtual module registers nothing and calls neither callback.
    setTimeout(() => resolve(undefined), 10_000);
  });
}

function folder(url: string): URL {
  const u = new URL(url, document.baseURI);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

/**
 * Every URL the engine may fetch for these bundles (the document encoder is not one of them): the
 * files it loads before the first result, and those it loads later or may load (the lexical index,
 * fetched at the first lexical search; the neighbor graph).
 */
export async function bundleUrls(modelUrl: string, indexUrl: string, encoder: EncoderBackend = 'wasm'): Promise<string[]> {
  const modelDir = folder(modelUrl);
  const indexDir = folder(indexUrl);
  const modelJson = new URL(MODEL_FILE_NAME, modelDir);
  const manifestJson = new URL(MANIFEST_FILE_NAME, indexDir);
  const [modelBytes, manifestBytes] = await Promise.all(
    [modelJson, manifestJson].map(async (u) => {
      const r = await fetch(u);
      if (!r.ok) throw new Error(`${u.href}: HTTP ${r.status}`);
      return readBodyBounded(r, u.pathname.split('/').pop()!, { max: MAX_JSON_FILE_BYTES }); // as the engine reads them
    }),
  );
  const model = parseModelJson(modelBytes);
  const manifest = parseIndexManifest(manifestBytes);
  // Every listed file: offline, the records come from the metadata shards (a few files), not the
  // per-document fragments (one file per page; src/worker/documentTexts.ts falls back to the shards).
  const urls = [modelJson.href, manifestJson.href, ...manifest.files.map((f) => new URL(f.path, indexDir).href)];
  // The lexical index's term chunks, a Merkle set files does not list.
  const chunks = manifest.lexical?.raw.chunks as { folder?: unknown; count?: unknown } | undefined;
  if (typeof chunks?.folder === 'string' && typeof chunks.count === 'number')
    for (let j = 0; j < chunks.count; j++) urls.push(new URL(merkleMemberPath(chunks.folder, j), indexDir).href);
  if (model.encoders) {
    urls.push(new URL(model.encoders.files.queryEncoder.path, modelDir).href, new URL(model.encoders.files.vocab.path, modelDir).href);
    // The onnxruntime-web build the engine chose for this browser (the same choice offline), as the
    // engine fetched it: its gzip copy where the site has one (src/worker/ortFiles.ts), else the wasm.
    const wasm = new URL(ortWasmUrl(encoder), document.baseURI).href;
    const gz = await fetch(`${wasm}.gz`, { method: 'HEAD' }).then(
      (r) => r.ok && !/text\/html/.test(r.headers.get('content-type') ?? ''),
      () => false,
    );
    urls.push(gz ? `${wasm}.gz` : wasm);
  }
  return urls;
}

/**
 * Asks the active service worker to cache the bundle files it does not hold yet, and resolves once
 * every one of them is in the cache: true when the page can now load offline, false when there is
 * no service worker (dev server, unsupported browser) or caching failed.
 */
export async function cacheBundles(modelUrl: string, indexUrl: string, encoder: EncoderBackend = 'wasm'): Promise<boolean> {
  if (!('serviceWorker' in navigator) || !(await registerOffline())) return false;
  const reg = await navigator.serviceWorker.ready;
  const urls = await bundleUrls(modelUrl, indexUrl, encoder);
  const [bundles, ort] = await Promise.all([caches.open(BUNDLE_CACHE), caches.open(ORT_CACHE)]);
  const missing = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const u of urls) if (!(await bundles.match(u)) && !(await ort.match(u))) out.push(u);
    return out;
  };
  let todo = await missing();
  if (todo.length === 0) return true;
  if (!reg.active) return false;
  const channel = new MessageChannel();
  // The router replies only on success; a failed fetch or a full quota leaves it silent.
  const replied = new Promise((resolve) => {
    channel.port1.onmessage = resolve;
    setTimeout(resolve, 120_000);
  });
  reg.active.postMessage({ type: 'CACHE_URLS', payload: { urlsToCache: todo } }, [channel.port2]);
  await replied;
  // The reply comes when the responses are ready; the cache writes may finish a little later.
  for (let i = 0; i < 100; i++) {
    todo = await missing();
    if (todo.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return todo.length === 0;
}
