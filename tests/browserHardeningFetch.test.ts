// Bounded reading of bundle files (src/worker/boundedFetch.ts): a file of stated size is refused
// when the server announces or sends another size, without reading the rest of an oversized body;
// a JSON file of unknown size is cut off at its limit.
import { describe, expect, it } from 'vitest';
import { readBodyBounded } from '../src/worker/boundedFetch.ts';

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
    await expect(readBodyBounded(small.res, 'vectors/00000.bin', { expected: 4000 })).rejects.toThrow('vectors/00000.bin: truncated: expected 4000 bytes, the server announces 10 (Content-Length)');
    expect(small.seen.pulled).toBe(0);
  });

  it('without Content-Length, stops reading once the body passes the stated size', async () => {
    const { res, seen } = streamed(10_000, 1 << 16); // 655 MB if read to the end
    await expect(readBodyBounded(res, 'vectors/00003.bin', { expected: 3 << 16 })).rejects.toThrow(`vectors/00003.bin: oversized: expected ${3 << 16} bytes, the server sent more`);
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
    await expect(readBodyBounded(over.res, 'manifest.json', { max: 200_000 })).rejects.toThrow("manifest.json: over the 200000-byte limit for a bundle's JSON file: the server sent more");
    expect(over.seen.pulled).toBeLessThanOrEqual(8);
    expect(over.seen.cancelled).toBe(true);
    const announced = streamed(1, 10, { 'content-length': '900000' });
    await expect(readBodyBounded(announced.res, 'model.json', { max: 200_000 })).rejects.toThrow("model.json: over the 200000-byte limit for a bundle's JSON file: the server announces 900000 (Content-Length)");
    expect(announced.seen.pulled).toBe(0);
  });
});
