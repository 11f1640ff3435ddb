// A Vite plugin for both builds (site and library): a gzip copy (`<name>.wasm.gz`, level 9) beside
// every emitted .wasm. A plain static host serves files as they are, so onnxruntime's 14 MB wasm
// would travel uncompressed; the query encoder fetches the .gz (3.7 MB) and decompresses it itself
// (src/worker/ortFiles.ts), as Pagefind does with its index chunks.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

export function precompressWasm(): Plugin {
  let outDir = '';
  return {
    name: 'hypencoder:precompress-wasm',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    // After everything is written (the worker build's assets included): every .wasm under the output folder.
    async closeBundle() {
      for (const e of await readdir(outDir, { recursive: true, withFileTypes: true })) {
        if (!e.isFile() || !e.name.endsWith('.wasm')) continue;
        const path = join(e.parentPath, e.name);
        await writeFile(`${path}.gz`, gzipSync(await readFile(path), { level: 9 }));
      }
    },
  };
}
