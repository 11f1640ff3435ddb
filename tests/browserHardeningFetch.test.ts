// Bounded reading of bundle files (src/worker/boundedFetch.ts): a file of stated size is refused
// when the server announces or sends another size, without reading the rest of an oversized body;
// a JSON file of unknown size is cut off at its limit. And the worker's loader (bundleLoader.ts over
// httpSource.ts and the one bundle reader) against a fake server.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeSyntheticIndex } from '../src/cli/syntheticIndex.ts';
import { sha256Hex } from '../src/core/formats/index.ts';
import { readBodyBounded } from '../src/worker/boundedFetch.ts';
import { cacheSummary, loadBundles, type LoadProgress } from '../src/worker/bundleLoader.ts';
import { FileCache } from '../src/worker/fileCache.ts';

/** A body of `chunks` chunks of `size` bytes (each filled with its index), counting what was pulled and whether it was cancelled. */
function streamed(chunks: number, size: number, headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (seen.pulled === chunks) return c.close();
        c.enqueue(new Uint8Array(size).fill(seen.pulled++ & 0xff));
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 }, // pulled only when read
  );
  return { res: new Response(body, { headers }), seen };
}

describe('readBodyBounded', () => {
  it('returns a body of the stated size', async () => {
    const { res } = streamed(4, 1000);
    const bytes = await readBodyBounded(res, 'vectors/00000.bin', { expected: 4000 });
    expect(bytes.byteLength).toBe(4000);
    expect([bytes[0], bytes[1999], bytes[2000], bytes[3999]]).toEqual([0, 1, 2, 3]);
  });

  it('refuses before reading the body when Content-Length differs from the stated size', async () => {
    const big = streamed(1000, 1 << 16, { 'content-length': String(1000 << 16) });
    await expect(readBodyBounded(big.res, 'vectors/00000.bin', { expected: 4000 })).rejects.toThrow(
      `vectors/00000.bin: oversized: expected 4000 bytes, the server announces ${1000 << 16} (Content-Length)`,
    );
    expect(big.seen.pulled).toBe(0);
    expect(big.seen.cancelled).toBe(true);
    const small = streamed(1, 10, { 'content-length': '10' });
    await expect(readBodyBounded(small.res, 'vectors/00000.bin', { expected: 4000 })).rejects.toThrow(
      'vectors/00000.bin: truncated: expected 4000 bytes, the server announces 10 (Content-Length)',
    );
    expect(small.seen.pulled).toBe(0);
  });

  it('without Content-Length, stops reading once the body passes the stated size', async () => {
    const { res, seen } = streamed(10_000, 1 << 16); // 655 MB if read to the end
    await expect(readBodyBounded(res, 'vectors/00003.bin', { expected: 3 << 16 })).rejects.toThrow(
      `vectors/00003.bin: oversized: expected ${3 << 16} bytes, the server sent more`,
    );
    expect(seen.pulled).toBeLessThanOrEqual(5);
    expect(seen.cancelled).toBe(true);
  });

  it('refuses a short body without Content-Length as truncated', async () => {
    const { res } = streamed(2, 100);
    await expect(readBodyBounded(res, 'metadata/00000.json', { expected: 300 })).rejects.toThrow('metadata/00000.json: truncated: expected 300 bytes, got 200');
  });

  it('ignores Content-Length of a compressed body (it counts encoded bytes) and checks what arrives', async () => {
    const { res } = streamed(3, 100, { 'content-length': '17', 'content-encoding': 'gzip' });
    expect((await readBodyBounded(res, 'vectors/00000.bin', { expected: 300 })).byteLength).toBe(300);
  });

  it('reads a file of unknown size up to the limit, and refuses one past it', async () => {
    const ok = streamed(5, 30_000);
    const bytes = await readBodyBounded(ok.res, 'manifest.json', { max: 200_000 });
    expect(bytes.byteLength).toBe(150_000);
    expect(bytes[149_999]).toBe(4);
    const over = streamed(1_000_000, 30_000);
    await expect(readBodyBounded(over.res, 'manifest.json', { max: 200_000 })).rejects.toThrow(
      "manifest.json: over the 200000-byte limit for a bundle's JSON file: the server sent more",
    );
    expect(over.seen.pulled).toBeLessThanOrEqual(8);
    expect(over.seen.cancelled).toBe(true);
    const announced = streamed(1, 10, { 'content-length': '900000' });
    await expect(readBodyBounded(announced.res, 'model.json', { max: 200_000 })).rejects.toThrow(
      "model.json: over the 200000-byte limit for a bundle's JSON file: the server announces 900000 (Content-Length)",
    );
    expect(announced.seen.pulled).toBe(0);
  });
});

describe('loadBundles (the worker path through the bundle reader)', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hypencoder-http-'));
  });
  afterEach(async () => {
    vi.unstubAllGlobals();
    await rm(root, { recursive: true, force: true });
  });

  /** Serves the files under `root` at http://bundles.test/, optionally changing what one path answers. */
  function serve(answer: (path: string, bytes: Uint8Array | undefined) => Response | undefined = () => undefined) {
    vi.stubGlobal('fetch', async (url: URL | string) => {
      const path = new URL(url).pathname.slice(1);
      const bytes = await readFile(join(root, path)).then(
        (b) => new Uint8Array(b),
        () => undefined,
      );
      return answer(path, bytes) ?? (bytes ? new Response(bytes) : new Response('not found', { status: 404 }));
    });
  }
  const load = (progress?: (p: LoadProgress) => void) =>
    loadBundles('http://bundles.test/s/model/', 'http://bundles.test/s/index', progress, new FileCache(undefined, false));

  it('loads a bundle, reporting bytes as each file is verified', async () => {
    await makeSyntheticIndex(join(root, 's'), { n: 120, dim: 8, dtype: 'f16', seed: 1, tileDocs: 50, shardDocs: 60 });
    serve();
    const seen: LoadProgress[] = [];
    const b = await load((p) => seen.push(p));
    expect(b.tiles.map((t) => t.n)).toEqual([50, 50, 20]);
    expect(new Set(b.docs.map((d) => d.id)).size).toBe(120);
    expect(seen.map((p) => p.phase)).toEqual(['model', 'manifest', 'vectors', 'vectors', 'vectors', 'metadata', 'metadata']);
    expect(seen.at(-1)).toMatchObject({ loadedBytes: seen.at(-1)!.totalBytes, cachedBytes: 0 });
    expect(cacheSummary(b).networkBytes).toBe(seen.at(-1)!.totalBytes);
  });

  it('refuses ids repeated across metadata shards, an HTML answer, and a tampered tile, naming the file', async () => {
    const s = await makeSyntheticIndex(join(root, 's'), { n: 120, dim: 8, dtype: 'f16', seed: 1, tileDocs: 50, shardDocs: 60 });
    const shard = join(s.indexDir, 'metadata', '00001.json');
    const records = JSON.parse(await readFile(shard, 'utf8'));
    records[0].id = JSON.parse(await readFile(join(s.indexDir, 'metadata', '00000.json'), 'utf8'))[3].id;
    const bytes = new TextEncoder().encode(JSON.stringify(records));
    await writeFile(shard, bytes);
    const manifestPath = join(s.indexDir, 'manifest.json');
    const m = JSON.parse(await readFile(manifestPath, 'utf8'));
    Object.assign(
      m.files.find((f: { path: string }) => f.path === 'metadata/00001.json'),
      { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) },
    );
    await writeFile(manifestPath, JSON.stringify(m));
    serve();
    await expect(load()).rejects.toThrow(/^metadata\/00001\.json: \[0\]\.id "[^"]+" repeats a document id of metadata\/00000\.json$/);
    serve((path) => (path.endsWith('vectors/00001.bin') ? new Response('<html></html>', { headers: { 'content-type': 'text/html' } }) : undefined));
    await expect(load()).rejects.toThrow(
      'vectors/00001.bin: http://bundles.test/s/index/vectors/00001.bin answered with an HTML page, not the file (is the file missing?)',
    );
    serve((path, b) => (path.endsWith('vectors/00001.bin') && b ? new Response(b.map((v, i) => (i === 9 ? v ^ 1 : v))) : undefined));
    await expect(load()).rejects.toThrow('vectors/00001.bin: SHA-256 mismatch');
    serve((path) => (path.endsWith('model.json') ? new Response('gone', { status: 410 }) : undefined));
    await expect(load()).rejects.toThrow('model.json: http://bundles.test/s/model/model.json answered HTTP 410');
  });
});
