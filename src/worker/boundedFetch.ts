// Reads a response body with a bound, so a server (or a tampered bundle) cannot make the engine
// hold more than it asked for: a file whose size the bundle states is refused as soon as it turns
// out larger (by its Content-Length before any of the body is read, else while streaming), and a
// file of unknown size (manifest.json, model.json) is cut off at a limit.

export type BodyBound =
  /** The bundle states the size: anything else is refused (`oversized` / `truncated`). */
  | { expected: number }
  /** The size is not known in advance: refused past `max` bytes. */
  | { max: number };

function refuse(res: Response, message: string): never {
  // Stop the download: the rest of the body is never read.
  res.body?.cancel().catch(() => {});
  throw new Error(message);
}

/** The body's bytes within the bound; `what` names the file in errors; `onBytes` hears the bytes so far and the announced size (0: unknown). */
export async function readBodyBounded(res: Response, what: string, bound: BodyBound, onBytes?: (got: number, announced: number) => void): Promise<Uint8Array> {
  const limit = 'expected' in bound ? bound.expected : bound.max;
  const tooBig = (got: string): string =>
    'expected' in bound
      ? `${what}: oversized: expected ${bound.expected} bytes, ${got}`
      : `${what}: over the ${bound.max}-byte limit for a bundle's JSON file: ${got}`;
  // Content-Length counts the encoded bytes when the server compressed the body, so it says
  // nothing then about the size of the file.
  const encoding = (res.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  const lengthHeader = encoding === 'identity' ? res.headers.get('content-length') : null;
  let announced = 0;
  if (lengthHeader !== null && /^\d+$/.test(lengthHeader.trim())) {
    announced = Number(lengthHeader);
    if (announced > limit) refuse(res, tooBig(`the server announces ${announced} (Content-Length)`));
    if ('expected' in bound && announced < bound.expected)
      refuse(res, `${what}: truncated: expected ${bound.expected} bytes, the server announces ${announced} (Content-Length)`);
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer()); // no stream to bound (an empty body)
  const reader = res.body.getReader();
  // A stated size is allocated once; an unknown one grows by doubling up to the limit.
  let buf = new Uint8Array('expected' in bound ? bound.expected : Math.min(bound.max, 64 * 1024));
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (got + value.byteLength > limit) {
      reader.cancel().catch(() => {});
      throw new Error(tooBig(`the server sent more`));
    }
    if (got + value.byteLength > buf.byteLength) {
      const grown = new Uint8Array(Math.min(limit, Math.max(buf.byteLength * 2, got + value.byteLength)));
      grown.set(buf.subarray(0, got));
      buf = grown;
    }
    buf.set(value, got);
    got += value.byteLength;
    onBytes?.(got, Math.max(announced, got));
  }
  if ('expected' in bound && got < bound.expected) throw new Error(`${what}: truncated: expected ${bound.expected} bytes, got ${got}`);
  return got === buf.byteLength ? buf : buf.slice(0, got);
}
