// The library build (`npm run build` runs it after the site): dist/lib/hypencoder-web.js, an ES
// module exporting createSearch and registering <hypencoder-search>, with the engine worker and the
// onnxruntime-web wasm as files next to it (found through import.meta.url).
import { defineConfig, type Plugin } from 'vite';
import { resolve } from 'node:path';
import { precompressWasm } from './tools/precompressWasm.ts';

/**
 * Library mode inlines every asset as a data: URL; the 28 MB ORT wasm must stay a file. Our
 * `?url` import of it gets Vite's `no-inline` query, and onnxruntime-web's own default reference
 * (`new URL("ort-wasm-….wasm", import.meta.url)`, unused: queryEncoder.ts sets wasmPaths) is
 * left alone with `@vite-ignore` instead of being inlined a second time.
 */
function wasmAsFile(): Plugin {
  return {
    name: 'hypencoder:wasm-as-file',
    enforce: 'pre',
    async resolveId(source, importer) {
      if (!/\.wasm\?url$/.test(source)) return null;
      const r = await this.resolve(source.replace(/\?url$/, ''), importer, { skipSelf: true });
      return r ? `${r.id}?url&no-inline` : null;
    },
    transform(code, id) {
      if (!/onnxruntime-web\/dist\/.*\.mjs$/.test(id)) return null;
      const out = code.replace(/new URL\(("ort-[\w.-]+\.wasm"),\s*import\.meta\.url\)/g, 'new URL(/* @vite-ignore */ $1, import.meta.url)');
      return out === code ? null : { code: out, map: null };
    },
  };
}

export default defineConfig({
  publicDir: false,
  base: './', // asset URLs relative to the library file, wherever it is served from
  plugins: [wasmAsFile(), precompressWasm()],
  worker: { format: 'es', plugins: () => [wasmAsFile()] },
  build: {
    outDir: 'dist/lib',
    emptyOutDir: true,
    target: 'es2022',
    lib: { entry: resolve(import.meta.dirname, 'src/ui/library.ts'), formats: ['es'], fileName: () => 'hypencoder-web.js' },
  },
});
