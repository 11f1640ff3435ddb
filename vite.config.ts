import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { cp } from 'node:fs/promises';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { pwaIconFiles } from './tools/icons.ts';
import { precompressWasm } from './tools/precompressWasm.ts';

// COOP/COEP make the page cross-origin isolated, so onnxruntime-web's WASM backend may use threads.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const root = import.meta.dirname;
const demoBundle = resolve(root, 'public/generated/demo');

/** The PNG icons, drawn at build time (tools/icons.ts) and served by the dev server too. */
function icons(): Plugin {
  let files: Map<string, Buffer> | undefined;
  const get = () => (files ??= pwaIconFiles());
  return {
    name: 'hypencoder:icons',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const png = get().get((req.url ?? '').split('?')[0].replace(/^\//, ''));
        if (!png) return next();
        res.setHeader('Content-Type', 'image/png');
        res.end(png);
      });
    },
    generateBundle() {
      for (const [fileName, source] of get()) this.emitFile({ type: 'asset', fileName, source });
    },
  };
}

/**
 * Dev server: bundle files under public/generated/ are read from disk on every request. Vite's own
 * public-file list is updated by its watcher, which lags or misses files that tests and scripts
 * write while the server runs (it then answers with index.html).
 */
function generatedBundles(): Plugin {
  const base = resolve(root, 'public/generated');
  const types: Record<string, string> = { json: 'application/json', txt: 'text/plain; charset=utf-8' };
  return {
    name: 'hypencoder:generated-bundles',
    configureServer(server) {
      server.middlewares.use('/generated', (req, res, next) => {
        const file = resolve(base, `.${decodeURIComponent((req.url ?? '').split('?')[0])}`);
        if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) return next();
        res.setHeader('Content-Type', types[file.split('.').pop() ?? ''] ?? 'application/octet-stream');
        for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
        res.setHeader('Accept-Ranges', 'bytes');
        const size = statSync(file).size;
        // One byte range (bytes=a-b), as static hosts answer it: lazily loaded indexes fetch chunks so.
        const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
        if (range) {
          const start = Number(range[1]);
          const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
          if (start > end) {
            res.statusCode = 416;
            res.setHeader('Content-Range', `bytes */${size}`);
            return res.end();
          }
          res.statusCode = 206;
          res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
          res.setHeader('Content-Length', end - start + 1);
          return createReadStream(file, { start, end }).pipe(res);
        }
        res.setHeader('Content-Length', size);
        createReadStream(file).pipe(res);
      });
    },
  };
}

/**
 * The built site gets the demo bundle (generated/demo) and nothing else of public/, which also
 * holds test and benchmark bundles.
 */
function demoBundleCopy(): Plugin {
  return {
    name: 'hypencoder:demo-bundle',
    apply: 'build',
    async writeBundle(options) {
      if (!existsSync(resolve(demoBundle, 'index/manifest.json'))) {
        this.warn('public/generated/demo is missing (run npx tsx scripts/demoIndex.ts): the built page will have no demo index');
        return;
      }
      await cp(demoBundle, resolve(options.dir!, 'generated/demo'), { recursive: true });
    },
  };
}

export default defineConfig(({ command }) => ({
  server: { host: '127.0.0.1', headers: isolationHeaders, fs: { allow: ['.', '../shared'] } },
  preview: { host: '127.0.0.1', headers: isolationHeaders },
  publicDir: command === 'build' ? false : 'public',
  worker: { format: 'es' },
  // Pre-bundled up front (lunr and damerau-levenshtein are CommonJS): a dependency Vite finds only
  // when a page first imports it makes it re-optimize and reload that page mid-test.
  optimizeDeps: { include: ['lunr', 'damerau-levenshtein', 'idb-keyval', 'comlink', '@huggingface/tokenizers'], exclude: ['onnxruntime-web'] },
  plugins: [
    generatedBundles(),
    icons(),
    demoBundleCopy(),
    precompressWasm(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false, // src/ui/offline.ts registers it
      manifest: {
        name: 'hypencoder-web search',
        short_name: 'hypencoder',
        description: 'Hypencoder neural search that runs entirely in your browser, on the GPU.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#3d4fd6',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The app shell is precached; the ORT wasm (28 MB, used only with a trained model) and the
        // bundles are cached at run time (src/ui/offline.ts asks for them after the first load).
        globPatterns: ['**/*.{js,css,html,png,webmanifest}'],
        globIgnores: ['generated/**', 'lib/**'],
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/generated\//, /^\/lib\//],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        runtimeCaching: [
          {
            // Content-hashed file name: what is cached never changes.
            urlPattern: ({ url }) => url.pathname.endsWith('.wasm') || url.pathname.endsWith('.wasm.gz'),
            handler: 'CacheFirst',
            options: { cacheName: 'hypencoder-ort', cacheableResponse: { statuses: [200] }, expiration: { maxEntries: 4 } },
          },
          {
            // Bundle files (fetch() from the engine worker or the page): fresh from the network when
            // online (a new index version keeps its file names), the cached copy when offline.
            // Only whole 200 responses: no opaque (status 0) or partial (206) ones.
            urlPattern: ({ request }) => request.method === 'GET' && request.destination === '' && !request.headers.has('range'),
            handler: 'NetworkFirst',
            options: { cacheName: 'hypencoder-bundles', networkTimeoutSeconds: 10, cacheableResponse: { statuses: [200] } },
          },
        ],
      },
    }),
  ],
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        main: resolve(root, 'index.html'),
      },
    },
  },
}));
