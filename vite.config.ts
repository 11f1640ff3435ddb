import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// COOP/COEP make the page cross-origin isolated, so onnxruntime-web's WASM backend may use threads.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { host: '127.0.0.1', headers: isolationHeaders, fs: { allow: ['.', '../shared'] } },
  preview: { host: '127.0.0.1', headers: isolationHeaders },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
      },
    },
  },
});
