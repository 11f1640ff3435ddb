// Gzip for the small files a first visit fetches (fragments): a plain static host serves them as
// they are, so they are stored compressed, as Pagefind stores its fragments. DecompressionStream
// exists in browsers and in Node >= 18, so one implementation serves both engines.

/** The bytes gzip-decompressed, refused (naming `file`) past `maxBytes` of output without decompressing further. */
export async function gunzipBounded(bytes: Uint8Array, maxBytes: number, file: string): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new Error(`${file}: decompresses to more than ${maxBytes} bytes, the limit its descriptor states`);
      }
      parts.push(value);
    }
  } catch (e) {
    if ((e as Error).message.startsWith(`${file}:`)) throw e;
    throw new Error(`${file}: not valid gzip data (${(e as Error).message})`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
