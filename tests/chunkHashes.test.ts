// Lazy-loading fields of manifest.json (files[i].chunks, typed as FileChunks and validated with the
// manifest; src/core/formats/chunkHashes.ts): per-chunk SHA-256 of vector tiles and graph shards,
// graph.entry_points, written by the writer itself and read a chunk run at a time (readChunks).
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isShard, openIndexBundle, parseIndexManifest, serializeIndexManifest, sha256Hex, type IndexManifest } from '../src/core/formats/index.ts';
import { chunkByteRange, computeChunkHashes, readChunks, readLazyLayout } from '../src/core/formats/chunkHashes.ts';
import { writeScaleBundle } from '../bench/scaleIndex.ts';
import { writeIndexBundle } from '../src/cli/writeIndex.ts';
import { randomVectors, seededRandom } from '../src/core/qnet.ts';
import { exactKnnGraph } from '../src/core/knn.ts';
import { encodeVectors } from '../src/core/vectorStorage.ts';
import { MemoryKept, MemorySource } from './helpers/memorySource.ts';

const fixture = (name: string) => readFile(join(import.meta.dirname, 'fixtures', name), 'utf8');

async function bundle(): Promise<{ dir: string; index: string; text: string; json: Record<string, any> }> {
  const dir = await mkdtemp(join(tmpdir(), 'chunks-'));
  const n = 300;
  const d = 8;
  const v = randomVectors(n, d, seededRandom(1));
  await writeScaleBundle(join(dir, 'b'), {
    vectors: v,
    n,
    dim: d,
    graphRows: exactKnnGraph(v, n, d, 4),
    degree: 4,
    entryPoints: [0, 5, 9],
    tileDocs: 128,
    chunkDocs: 50,
  });
  const index = join(dir, 'b', 'index');
  const text = await readFile(join(index, 'manifest.json'), 'utf8');
  return { dir, index, text, json: JSON.parse(text) };
}

/** 250 docs of dim 6 in tiles, metadata and graph shards of 100, a lexical file, chunks of 30 rows. */
function lazyInput() {
  const n = 250;
  const d = 6;
  const vectors = randomVectors(n, d, seededRandom(3));
  const rows = exactKnnGraph(vectors, n, d, 4);
  const firsts = [0, 100, 200];
  const size = (f: number) => Math.min(100, n - f);
  return {
    manifestFields: { model: { id: 'm', sha256: 'd'.repeat(64) } },
    tiles: firsts.map((f) => encodeVectors(vectors.subarray(f * d, (f + size(f)) * d), size(f), d, 'f16')),
    metadata: firsts.map((f) =>
      Array.from({ length: size(f) }, (_, k) => ({ id: `doc-${f + k}`, title: `Title ${f + k}`, url: '', text: `Text of ${f + k}` })),
    ),
    graph: { degree: 4, shards: firsts.map((f) => rows.subarray(f * 4, (f + size(f)) * 4)), entryPoints: Uint32Array.of(0, 7, 42) },
    lexical: {
      descriptor: { scheme: 'lunr-doc-1', fields: ['title', 'text'] },
      files: [{ path: 'lexical/00000.json', data: new TextEncoder().encode('{"version":"2.3.9"}') }],
    },
    chunkDocs: 30,
  };
}

describe('chunk hashes', () => {
  it('hash exactly the rows of each chunk; the last chunk is short', async () => {
    const data = Uint8Array.from({ length: 7 * 12 }, (_, i) => i);
    const h = await computeChunkHashes(data, 7, 12, 3);
    expect(h).toEqual([await sha256Hex(data.subarray(0, 36)), await sha256Hex(data.subarray(36, 72)), await sha256Hex(data.subarray(72, 84))]);
    const entry = { path: 'x', kind: 'vectors' as const, bytes: 84, sha256: '', firstDoc: 0, docCount: 7 };
    expect(chunkByteRange({ entry, rowBytes: 12, chunkDocs: 3 }, 2)).toEqual({ start: 72, end: 84 });
  });

  it('the writer writes the manifest the re-read pass (addLazyFields, removed) wrote, byte for byte', async () => {
    // The fixtures are the manifests the old writer-then-addLazyFields path made from these same inputs.
    const { dir, text } = await bundle();
    const out = await mkdtemp(join(tmpdir(), 'chunks-'));
    try {
      expect(text).toBe(await fixture('lazy-manifest-scale.json'));
      await writeIndexBundle(join(out, 'i'), lazyInput());
      expect(await readFile(join(out, 'i', 'manifest.json'), 'utf8')).toBe(await fixture('lazy-manifest-index.json'));
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(out, { recursive: true, force: true });
    }
  });

  it('chunks are typed on the manifest and round-trip through the serializer', async () => {
    const { dir, index, text } = await bundle();
    try {
      const m = parseIndexManifest(text);
      expect(m.vectorTiles.map((e) => e.chunks?.sha256.length)).toEqual([3, 3, 1]); // tiles of 128, 128, 44 rows; chunks of 50
      expect(m.vectorTiles[2].chunks!.docs).toBe(50);
      expect(m.metadataShards.every((e) => e.chunks === undefined)).toBe(true);
      expect(serializeIndexManifest(m)).toBe(text);
      const { layout, reason } = readLazyLayout(m);
      expect(reason).toBe('');
      expect(Array.from(layout!.entryPoints)).toEqual([0, 5, 9]);
      const f = layout!.graph[1];
      const bytes = new Uint8Array(await readFile(join(index, f.entry.path)));
      const { start, end } = chunkByteRange(f, 2);
      expect(await sha256Hex(bytes.subarray(start, end))).toBe(f.sha256[2]);
      // Without chunks the manifest is written indented, as before lazy loading existed.
      const plain = structuredClone(m);
      for (const e of plain.files) if (isShard(e)) delete e.chunks;
      expect(serializeIndexManifest(plain)).toMatch(/^\{\n {2}"format": "hypencoder-index",/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an old manifest stays valid and is simply not lazy; malformed fields are refused by name', async () => {
    const { dir, json } = await bundle();
    const parse = (j: unknown) => parseIndexManifest(JSON.stringify(j));
    try {
      const old = structuredClone(json);
      for (const f of old.files) delete f.chunks;
      expect(readLazyLayout(parse(old)).reason).toMatch(/vectors\/00000\.bin has no chunk hashes/);
      const noEntries = structuredClone(json);
      delete noEntries.graph.entry_points;
      expect(readLazyLayout(parse(noEntries)).reason).toBe('graph.entry_points is missing');
      const short = structuredClone(json);
      short.files[0].chunks.sha256.pop();
      expect(() => parse(short)).toThrow('manifest.json: files[0].chunks.sha256 must list ceil(doc_count / docs) = 3 hashes, got 2');
      const bad = structuredClone(json);
      bad.files[1].chunks.sha256[1] = 'XYZ';
      expect(() => parse(bad)).toThrow('manifest.json: files[1].chunks.sha256[1] must be 64 lowercase hex digits, got "XYZ"');
      const zero = structuredClone(json);
      zero.files[0].chunks.docs = 0;
      expect(() => parse(zero)).toThrow('manifest.json: files[0].chunks.docs must be an integer >= 1, got 0');
      const notObject = structuredClone(json);
      notObject.files[0].chunks = [50];
      expect(() => parse(notObject)).toThrow('manifest.json: files[0].chunks must be an object, got [50]');
      const meta = structuredClone(json);
      const i = meta.files.findIndex((f: { kind: string }) => f.kind === 'metadata');
      meta.files[i].chunks = { docs: 10, sha256: [] };
      expect(() => parse(meta)).toThrow(`manifest.json: files[${i}].chunks is only for files of kind vectors or graph, this one has kind "metadata"`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('readChunks', () => {
  async function opened(): Promise<{ dir: string; source: MemorySource; manifest: IndexManifest; kept: MemoryKept }> {
    const { dir, index } = await bundle();
    const kept = new MemoryKept();
    const source = await MemorySource.of(index, kept);
    const { manifest } = await openIndexBundle(source);
    return { dir, source, manifest, kept };
  }

  it('reads a run of chunks in one range read, verified, and later from the kept copies', async () => {
    const { dir, source, manifest, kept } = await opened();
    try {
      const file = readLazyLayout(manifest).layout!.vectors[1];
      const fromKept: boolean[] = [];
      const parts = await readChunks(source, file, 0, 2, (_, __, k) => fromKept.push(k));
      expect(source.reads.filter((r) => r.startsWith('range'))).toEqual(['range vectors/00001.bin 0-2048']); // 128 rows × 16 bytes
      expect(parts.map((p) => p.byteLength)).toEqual([800, 800, 448]);
      expect(fromKept).toEqual([false, false, false]);
      const whole = source.files.get('vectors/00001.bin')!;
      expect(parts[2]).toEqual(whole.slice(1600, 2048));
      // A second read takes the chunks from the kept copies, but for a damaged one, which is read again.
      kept.store.get(`${kept.version}|vectors/00001.bin#1`)![0] ^= 1;
      fromKept.length = 0;
      const again = await readChunks(source, file, 0, 2, (_, __, k) => fromKept.push(k));
      expect(fromKept).toEqual([true, true, false]);
      expect(source.reads.at(-1)).toBe('range vectors/00001.bin 800-1600');
      expect(again).toEqual([whole.slice(0, 800), whole.slice(800, 1600), whole.slice(1600, 2048)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a chunk whose bytes differ from its hash, naming the file, the chunk and its bytes', async () => {
    const { dir, source, manifest } = await opened();
    try {
      source.files.get('graph/00000.bin')![870] ^= 1; // in chunk 1: chunks of 50 rows × 16 bytes
      const file = readLazyLayout(manifest).layout!.graph[0];
      await expect(readChunks(source, file, 0, 2)).rejects.toThrow(
        /^graph\/00000\.bin: chunk 1 \(bytes 800–1599\): SHA-256 mismatch: the manifest lists [0-9a-f]{64}, the server sent [0-9a-f]{64}$/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
