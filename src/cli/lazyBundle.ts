// Makes an index bundle loadable lazily (docs/FORMATS.md, "Lazy loading"): adds per-chunk SHA-256
// to every vector tile and graph shard, and the graph's entry points, to manifest.json. The data
// files are read and verified first; the manifest is replaced atomically (a temporary file renamed
// over it). Old clients ignore both fields.
// As a script: `npx tsx src/cli/lazyBundle.ts <index dir> [--chunk-docs 256] [--entry-points 0,17,33]`
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomicWrite.ts';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MANIFEST_FILE_NAME, parseIndexManifest, verifyFile, type IndexManifest } from '../core/formats/index.ts';
import { parseJsonText } from '../core/formats/fields.ts';
import { computeChunkHashes, readLazyLayout, rowBytesOf } from '../core/formats/chunkHashes.ts';

export interface LazyFieldsOptions {
  /** Rows per chunk (the Range request unit). */
  chunkDocs: number;
  /** Where a walk starts (document indices); default: the manifest's graph.entry_points. */
  entryPoints?: ArrayLike<number>;
}

export async function addLazyFields(indexDir: string, opts: LazyFieldsOptions): Promise<IndexManifest> {
  if (!Number.isInteger(opts.chunkDocs) || opts.chunkDocs < 1) throw new Error(`addLazyFields: chunkDocs must be an integer ≥ 1, got ${opts.chunkDocs}`);
  const path = join(indexDir, MANIFEST_FILE_NAME);
  const bytes = await readFile(path);
  const manifest = parseIndexManifest(bytes, path);
  if (!manifest.graph) throw new Error(`${path}: the index has no neighbor graph; lazy loading walks the graph`);
  const json = parseJsonText(bytes, path) as { files: Record<string, unknown>[]; graph: Record<string, unknown> };
  for (let i = 0; i < manifest.files.length; i++) {
    const e = manifest.files[i];
    if (e.kind !== 'vectors' && e.kind !== 'graph') continue;
    const data = new Uint8Array(await readFile(join(indexDir, ...e.path.split('/'))));
    await verifyFile(e, data);
    json.files[i].chunks = { docs: opts.chunkDocs, sha256: await computeChunkHashes(data, e.docCount, rowBytesOf(manifest, e.kind), opts.chunkDocs) };
  }
  if (opts.entryPoints) json.graph.entry_points = Array.from(opts.entryPoints);
  const text = `${JSON.stringify(json)}\n`;
  const out = parseIndexManifest(text, path);
  const { layout, reason } = readLazyLayout(JSON.parse(text), out, path);
  if (!layout) throw new Error(`${path}: ${reason}`);
  await writeFileAtomic(path, text);
  return out;
}

async function main(argv: string[]): Promise<void> {
  const dir = argv[0];
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const chunk = Number(get('--chunk-docs') ?? 256);
  const entries = (get('--entry-points') ?? '').split(',').filter(Boolean).map(Number);
  if (!dir || entries.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new Error('usage: npx tsx src/cli/lazyBundle.ts <index dir> [--chunk-docs 256] [--entry-points 0,17,33 (default: the manifest\'s graph.entry_points)]');
  }
  const m = await addLazyFields(dir, { chunkDocs: chunk, entryPoints: entries.length ? entries : undefined });
  console.log(`${dir}: ${m.vectorTiles.length} vector tiles and ${m.graphShards.length} graph shards chunked by ${chunk} documents, ${m.graph?.entryPoints?.length ?? 0} entry points`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`lazyBundle: ${(e as Error).message}`);
    process.exit(1);
  });
}
