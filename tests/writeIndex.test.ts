import { mkdtemp, mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readIndexBundle, readModelBundle } from '../src/cli/readBundle.ts';
import { SYNTHETIC_MODEL_ID, makeSyntheticIndex } from '../src/cli/syntheticIndex.ts';
import { writeIndexBundle, type WriteIndexInput } from '../src/cli/writeIndex.ts';
import {
  openIndexBundle,
  parseIndexManifest,
  parseModelJson,
  readIndexFiles,
  readVerified,
  sha256Hex,
  type IndexFileEntry,
} from '../src/core/formats/index.ts';
import { randomVectors, seededRandom } from '../src/core/qnet.ts';
import { decodeVectors, encodeVectors, int8Absmax } from '../src/core/vectorStorage.ts';
import { MemoryKept, MemorySource } from './helpers/memorySource.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hypencoder-formats-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const HASH = 'd'.repeat(64);
const doc = (i: number) => ({ id: `doc-${i}`, title: `Title ${i}`, url: `https://example.org/${i}`, text: `Text of ${i}` });

/** 250 docs of dim 6 in tiles of 100 and metadata shards of 100. */
function input(dtype: 'f32' | 'f16' | 'int8' = 'f16'): WriteIndexInput & { vectors: Float32Array } {
  const n = 250;
  const d = 6;
  const vectors = randomVectors(n, d, seededRandom(3));
  const absmax = dtype === 'int8' ? int8Absmax(vectors, n, d) : undefined;
  const tiles = [0, 100, 200].map((first) => {
    const m = Math.min(100, n - first);
    return encodeVectors(vectors.subarray(first * d, (first + m) * d), m, d, dtype, absmax);
  });
  const metadata = [0, 100, 200].map((first) => Array.from({ length: Math.min(100, n - first) }, (_, k) => doc(first + k)));
  return { manifestFields: { model: { id: 'm', sha256: HASH } }, tiles, metadata, vectors };
}

/** Everything in `dir`, recursively, as sorted relative paths. */
async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('writeIndexBundle', () => {
  for (const dtype of ['f32', 'f16', 'int8'] as const) {
    it(`writes a bundle that readIndexBundle reads back (${dtype})`, async () => {
      const inp = input(dtype);
      const out = join(root, 'idx');
      const manifest = await writeIndexBundle(out, inp);
      const all = await listing(out);
      const fragments = all.filter((p) => p.startsWith('documents/fragments/'));
      expect(fragments).toHaveLength(250); // one per document (each record here is its own document)
      expect(fragments.at(-1)).toBe('documents/fragments/00249.bin');
      expect(all.filter((p) => !p.startsWith('documents/fragments/'))).toEqual([
        'documents',
        'documents/fragments',
        'documents/map.bin',
        'manifest.json',
        'metadata',
        'metadata/00000.json',
        'metadata/00001.json',
        'metadata/00002.json',
        'vectors',
        'vectors/00000.bin',
        'vectors/00001.bin',
        'vectors/00002.bin',
      ]);
      expect((await stat(out)).mode & 0o777).toBe(0o755);
      const back = await readIndexBundle(out);
      expect(back.manifest).toEqual(manifest);
      expect(parseIndexManifest(await readFile(join(out, 'manifest.json')))).toEqual(manifest);
      expect(manifest).toMatchObject({ docCount: 250, dim: 6, tileDocs: 100, storage: { dtype } });
      expect(back.metadata).toEqual(Array.from({ length: 250 }, (_, i) => doc(i)));
      const decoded = back.tiles.flatMap((t) => Array.from(decodeVectors(t)));
      expect(decoded).toEqual(inp.tiles.flatMap((t) => Array.from(decodeVectors(t))));
      // The file on disk is the tile's words, byte for byte: uploadable to the GPU as is.
      const raw = await readFile(join(out, 'vectors/00001.bin'));
      expect(new Uint8Array(raw)).toEqual(new Uint8Array(inp.tiles[1].words.buffer));
    });
  }

  it('refuses a non-empty outDir, even with force unless it holds only a bundle; replaces a bundle with force', async () => {
    const out = join(root, 'idx');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'precious');
    await expect(writeIndexBundle(out, input())).rejects.toThrow(`out "${out}": exists and is not empty; choose an empty or new folder`);
    await expect(writeIndexBundle(out, { ...input(), force: true })).rejects.toThrow(/is not a bundle this tool wrote .*nothing was touched/);
    expect(await readFile(join(out, 'keep.txt'), 'utf8')).toBe('precious');
    await rm(join(out, 'keep.txt'));
    await writeIndexBundle(out, input());
    await expect(writeIndexBundle(out, input())).rejects.toThrow(/already holds an index; pass --force/);
    await writeIndexBundle(out, { ...input(), force: true });
    expect(await listing(out)).toContain('manifest.json');
    expect(await readdir(root)).toEqual(['idx']);
  });

  it('writes into an existing empty outDir', async () => {
    const out = join(root, 'idx');
    await mkdir(out);
    await writeIndexBundle(out, input());
    expect((await readIndexBundle(out)).manifest.docCount).toBe(250);
    expect(await readdir(root)).toEqual(['idx']);
  });

  it('leaves nothing behind when a write fails midway', async () => {
    const inp = input();
    // Vector tiles and the first two metadata shards are written before this record is reached.
    (inp.metadata[2][5] as Record<string, unknown>).title = 42;
    const out = join(root, 'idx');
    await expect(writeIndexBundle(out, inp)).rejects.toThrow('metadata/00002.json: [5].title must be a string, got 42');
    expect(await readdir(root)).toEqual([]);
  });

  it('leaves the old bundle intact when a forced rewrite fails', async () => {
    const out = join(root, 'idx');
    const first = await writeIndexBundle(out, input());
    const bad = input();
    bad.metadata.pop(); // metadata covers 200 of 250 docs: caught when the manifest is built, after all files
    await expect(writeIndexBundle(out, { ...bad, force: true })).rejects.toThrow(
      'manifest.json: metadata shards cover 200 documents (doc counts add up to 200), but doc_count is 250',
    );
    expect(await readdir(root)).toEqual(['idx']);
    expect((await readIndexBundle(out)).manifest).toEqual(first);
  });

  it('refuses int8 tiles quantized with different absmax and tiles that are not finite', async () => {
    const inp = input('int8');
    inp.tiles[1] = encodeVectors(inp.vectors.subarray(600, 1200), 100, 6, 'int8'); // its own absmax
    await expect(writeIndexBundle(join(root, 'a'), inp)).rejects.toThrow('writeIndexBundle: int8 tile 1 has a different absmax from tile 0');
    const f = input('f32');
    new Float32Array(f.tiles[2].words.buffer)[7] = Infinity;
    await expect(writeIndexBundle(join(root, 'b'), f)).rejects.toThrow('vectors/00002.bin: doc 201 dimension 1 is NaN or infinite');
    expect(await readdir(root)).toEqual([]);
  });

  it('writes and checks a neighbor graph', async () => {
    const inp = input();
    const degree = 2;
    const rows = (first: number, m: number) => Uint32Array.from({ length: m * degree }, (_, k) => (first + Math.floor(k / degree) + 1 + (k % degree)) % 250);
    const out = join(root, 'g');
    const m = await writeIndexBundle(out, { ...inp, graph: { degree, shards: [rows(0, 125), rows(125, 125)] } });
    expect(m.graph).toEqual({ degree: 2, metric: 'l2' });
    const back = await readIndexBundle(out);
    expect(back.graph.map((g) => g.length)).toEqual([250, 250]);
    expect(back.graph[1][0]).toBe(126);
  });
});

describe('readIndexBundle', () => {
  it('names a truncated, a tampered and a missing file', async () => {
    const out = join(root, 'idx');
    await writeIndexBundle(out, input());
    await truncate(join(out, 'vectors/00001.bin'), 100);
    await expect(readIndexBundle(out)).rejects.toThrow('vectors/00001.bin: truncated: expected 1200 bytes, got 100');
    await writeIndexBundle(out, { ...input(), force: true });
    const p = join(out, 'metadata/00001.json');
    await writeFile(p, (await readFile(p, 'utf8')).replace('Title 150', 'Title 151'));
    await expect(readIndexBundle(out)).rejects.toThrow('metadata/00001.json: SHA-256 mismatch');
    await rm(p);
    await expect(readIndexBundle(out)).rejects.toThrow(`metadata/00001.json: missing from the bundle in ${out}`);
  });

  it('refuses document ids repeated across shards', async () => {
    const inp = input();
    inp.metadata[2][0] = doc(3);
    const out = join(root, 'idx');
    await writeIndexBundle(out, inp);
    await expect(readIndexBundle(out)).rejects.toThrow('metadata/00002.json: [0].id "doc-3" repeats a document id of metadata/00000.json');
  });
});

describe('the bundle reader over an in-memory byte source', () => {
  /** A written bundle in memory; `swap` replaces a file and relists it in manifest.json (new length and hash). */
  async function memoryBundle(inp: WriteIndexInput = input(), kept?: MemoryKept) {
    const out = join(root, 'mem');
    await writeIndexBundle(out, inp);
    const source = await MemorySource.of(out, kept);
    const swap = async (path: string, bytes: Uint8Array) => {
      source.files.set(path, bytes);
      const m = JSON.parse(new TextDecoder().decode(source.files.get('manifest.json')));
      const e = m.files.find((f: { path: string }) => f.path === path);
      Object.assign(e, { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) });
      source.files.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
    };
    return { source, swap };
  }
  const readAll = async (source: MemorySource, kinds?: IndexFileEntry['kind'][]) => readIndexFiles(source, (await openIndexBundle(source)).manifest, { kinds });

  it('refuses a truncated, an oversized, a tampered and a missing file, naming it', async () => {
    const { source } = await memoryBundle();
    const tile = source.files.get('vectors/00001.bin')!;
    source.files.set('vectors/00001.bin', tile.subarray(0, 100));
    await expect(readAll(source)).rejects.toThrow('vectors/00001.bin: truncated: expected 1200 bytes, got 100');
    source.files.set('vectors/00001.bin', new Uint8Array(1300));
    await expect(readAll(source)).rejects.toThrow('vectors/00001.bin: oversized: expected 1200 bytes, got 1300');
    const flipped = tile.slice();
    flipped[7] ^= 1;
    source.files.set('vectors/00001.bin', flipped);
    await expect(readAll(source)).rejects.toThrow('vectors/00001.bin: SHA-256 mismatch: the bundle lists');
    source.files.delete('vectors/00001.bin');
    await expect(readAll(source)).rejects.toThrow('vectors/00001.bin: missing from the bundle');
  });

  it('refuses ids repeated across shards on the worker path too (vectors and metadata only)', async () => {
    const inp = input();
    inp.metadata[2][0] = doc(3);
    const { source } = await memoryBundle(inp);
    await expect(readAll(source, ['vectors', 'metadata'])).rejects.toThrow('metadata/00002.json: [0].id "doc-3" repeats a document id of metadata/00000.json');
    // Only what was asked for is read.
    expect((await readAll(source, ['vectors'])).metadata).toEqual([]);
    expect(source.reads.filter((r) => r.includes('metadata')).length).toBe(3);
  });

  it('refuses listed files whose structure or values are bad even when their hash matches', async () => {
    const { source, swap } = await memoryBundle({ ...input('f32'), graph: { degree: 2, shards: [new Uint32Array(500).fill(1)] } });
    const nan = source.files.get('vectors/00002.bin')!.slice();
    new Float32Array(nan.buffer)[7] = Number.NaN;
    await swap('vectors/00002.bin', nan);
    await expect(readAll(source)).rejects.toThrow('vectors/00002.bin: doc 201 dimension 1 is NaN or infinite');
    const { source: s2, swap: swap2 } = await memoryBundle({ ...input('f32'), graph: { degree: 2, shards: [new Uint32Array(500).fill(1)] }, force: true });
    await swap2('graph/00000.bin', new Uint8Array(new Uint32Array(500).fill(250).buffer));
    await expect(readAll(s2)).rejects.toThrow('graph/00000.bin: doc 0: neighbor 0 is 250, beyond doc_count 250');
    await swap2('metadata/00001.json', new TextEncoder().encode('[{"id": "x"}]'));
    await expect(readAll(s2, ['metadata'])).rejects.toThrow('metadata/00001.json: must hold doc_count (100) records, got 1');
  });

  it('uses a kept copy that verifies, and reads a damaged one again from the source', async () => {
    const kept = new MemoryKept();
    const { source } = await memoryBundle(input(), kept);
    const { manifest, version } = await openIndexBundle(source);
    expect(kept.version).toBe(version);
    const ref = manifest.metadataShards[1];
    const seen: boolean[] = [];
    const first = await readVerified(source, ref, (_, __, k) => seen.push(k));
    await readVerified(source, ref, (_, __, k) => seen.push(k));
    expect(seen).toEqual([false, true]);
    expect(source.reads.filter((r) => r === `file ${ref.path}`).length).toBe(1);
    kept.store.set(`${version}|${ref.path}`, first.slice(1));
    expect(await readVerified(source, ref, (_, __, k) => seen.push(k))).toEqual(first);
    expect(seen).toEqual([false, true, false]);
  });
});

describe('makeSyntheticIndex', () => {
  it('writes a synthetic model and a matching index that validate together', async () => {
    const out = join(root, 'syn');
    const r = await makeSyntheticIndex(out, { n: 300, dim: 10, dtype: 'int8', seed: 5, tileDocs: 128, shardDocs: 100 });
    const all = await listing(out);
    expect(all.filter((p) => p.startsWith('index/documents/fragments/'))).toHaveLength(300);
    expect(all.filter((p) => !p.startsWith('index/documents/fragments/'))).toEqual([
      'index',
      'index/documents',
      'index/documents/fragments',
      'index/documents/map.bin',
      'index/manifest.json',
      'index/metadata',
      'index/metadata/00000.json',
      'index/metadata/00001.json',
      'index/metadata/00002.json',
      'index/vectors',
      'index/vectors/00000.bin',
      'index/vectors/00001.bin',
      'index/vectors/00002.bin',
      'model',
      'model/model.json',
    ]);
    const model = await readModelBundle(r.modelDir);
    expect(model.model).toEqual(r.model);
    expect(model.model).toMatchObject({ id: SYNTHETIC_MODEL_ID, synthetic: true, encoders: null });
    expect(model.modelJsonSha256).toBe(await sha256Hex(await readFile(join(r.modelDir, 'model.json'))));
    const raw = JSON.parse(await readFile(join(r.indexDir, 'manifest.json'), 'utf8'));
    expect(raw.synthetic).toBe(true);
    expect(JSON.parse(await readFile(join(r.modelDir, 'model.json'), 'utf8')).synthetic).toBe(true);
    const idx = await readIndexBundle(r.indexDir, { model });
    expect(idx.manifest).toMatchObject({ synthetic: true, docCount: 300, dim: 10, model: { id: 'synthetic-qnet', sha256: model.modelJsonSha256 } });
    expect(idx.metadata[17].title).toBe('Synthetic document 17');
    expect(idx.metadata[17].text).toContain('random Gaussian noise');
    // One absmax for the whole collection: every tile decodes within int8 resolution of the generator's vectors.
    const want = randomVectors(300, 10, seededRandom(5));
    const got = idx.tiles.flatMap((t) => Array.from(decodeVectors(t)));
    got.forEach((v, i) => {
      expect(Math.abs(v - want[i])).toBeLessThanOrEqual(idx.manifest.storage.absmax![i % 10] / 127 / 2 + 1e-6);
    });
  });

  it('is deterministic in the seed', async () => {
    const a = await makeSyntheticIndex(join(root, 'a'), { n: 50, dim: 8, dtype: 'f16', seed: 1 });
    const b = await makeSyntheticIndex(join(root, 'b'), { n: 50, dim: 8, dtype: 'f16', seed: 1 });
    const c = await makeSyntheticIndex(join(root, 'c'), { n: 50, dim: 8, dtype: 'f16', seed: 2 });
    expect(b.manifest).toEqual(a.manifest);
    expect(c.manifest.vectorTiles[0].sha256).not.toBe(a.manifest.vectorTiles[0].sha256);
  });

  it('replaces its own model and index pair with force, and refuses a folder that holds more', async () => {
    const out = join(root, 'pair');
    await makeSyntheticIndex(out, { n: 20, dim: 8, dtype: 'f32', seed: 1 });
    await expect(makeSyntheticIndex(out, { n: 20, dim: 8, dtype: 'f32', seed: 2 })).rejects.toThrow(/already holds a model and index pair; pass --force/);
    const again = await makeSyntheticIndex(out, { n: 20, dim: 8, dtype: 'f32', seed: 2, force: true });
    expect((await readIndexBundle(again.indexDir)).manifest.docCount).toBe(20);
    await writeFile(join(out, 'notes.txt'), 'mine');
    await expect(makeSyntheticIndex(out, { n: 20, dim: 8, dtype: 'f32', seed: 3, force: true })).rejects.toThrow(
      /does not list \("notes.txt"\).*nothing was touched/,
    );
  });

  it('is refused by a model with other dims', async () => {
    const r = await makeSyntheticIndex(join(root, 's'), { n: 20, dim: 8, dtype: 'f32', seed: 1 });
    const other = await makeSyntheticIndex(join(root, 'o'), { n: 20, dim: 16, dtype: 'f32', seed: 1 });
    const model = await readModelBundle(other.modelDir);
    await expect(readIndexBundle(r.indexDir, { model: { ...model, modelJsonSha256: r.modelJsonSha256 } })).rejects.toThrow(
      'manifest.json: dim is 8 but model.json qnet.dims[0] is 16',
    );
    await expect(readIndexBundle(r.indexDir, { model })).rejects.toThrow('manifest.json: model.sha256 is');
    expect(parseModelJson(await readFile(join(other.modelDir, 'model.json'))).qnet.dims).toEqual([16, 16, 16, 1]);
  });
});
