// A bundle folder on a web server as the bundle reader's byte source (src/core/formats/bundleReader.ts):
// bodies read no further than their bound (boundedFetch.ts), Range requests for a lazy index, and,
// given a FileCache, verified files kept in IndexedDB under the hash of the descriptor that lists them.
import type { ByteSource, FileRef, KeptFiles } from '../core/formats/index.ts';
import { readBodyBounded, type BodyBound } from './boundedFetch.ts';
import type { FileCache } from './fileCache.ts';

/** What this source took from the network: bytes received and requests made. */
export interface NetworkCounters {
  networkBytes: number;
  requests: number;
}

export class HttpSource implements ByteSource {
  /** The folder URL, ending with '/' so relative paths resolve inside it. */
  readonly dir: URL;
  readonly kept?: KeptFiles;
  readonly counters: NetworkCounters;
  private readonly fetchImpl: typeof fetch;

  /** `counters` (default: fresh ones) is added to as bytes arrive. */
  constructor(
    url: string,
    private readonly cache?: FileCache,
    opts: { fetch?: typeof fetch; counters?: NetworkCounters } = {},
  ) {
    this.dir = new URL(url, globalThis.location?.href); // relative to the page; absolute where there is none (Node tests)
    if (!this.dir.pathname.endsWith('/')) this.dir.pathname += '/';
    this.fetchImpl = opts.fetch ?? fetch.bind(globalThis);
    this.counters = opts.counters ?? { networkBytes: 0, requests: 0 };
    if (cache) {
      let version = '';
      this.kept = {
        useVersion: (v) => {
          version = v;
          return cache.useVersion(this.dir.href, v);
        },
        get: async (key) => (version ? cache.get(version, key) : undefined),
        put: async (key, bytes) => (version ? cache.put(version, key, bytes) : undefined),
      };
    }
  }

  /** The descriptors always come from the network (so a new version is seen); offline, from the cache. */
  async readJson(path: string, maxBytes: number): Promise<Uint8Array> {
    const url = new URL(path, this.dir);
    try {
      const bytes = await this.fetchBody(url, path, { max: maxBytes });
      await this.cache?.put('json', url.href, bytes);
      return bytes;
    } catch (e) {
      const kept = await this.cache?.get('json', url.href);
      if (kept) return kept;
      throw e;
    }
  }

  readUpTo(path: string, maxBytes: number): Promise<Uint8Array> {
    return this.fetchBody(new URL(path, this.dir), path, { max: maxBytes });
  }

  readFile(ref: FileRef): Promise<Uint8Array> {
    return this.fetchBody(new URL(ref.path, this.dir), ref.path, { expected: ref.bytes });
  }

  /** Bytes [start, end) of a file: a Range request (206), or the whole file when the host ignores Range (200). */
  async readRange(ref: FileRef, start: number, end: number): Promise<Uint8Array> {
    const url = new URL(ref.path, this.dir);
    const what = `${ref.path}: bytes ${start}–${end - 1}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { headers: { Range: `bytes=${start}-${end - 1}` } });
    } catch (e) {
      throw new Error(`${ref.path}: could not fetch bytes ${start}–${end - 1} of ${url.href} (${(e as Error).message})`);
    }
    this.counters.requests++;
    if (res.status === 206) {
      const cr = res.headers.get('content-range') ?? '';
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(cr.trim());
      if (!m || Number(m[1]) !== start || Number(m[2]) !== end - 1) {
        res.body?.cancel().catch(() => {});
        throw new Error(`${ref.path}: asked for bytes ${start}–${end - 1}, the server answered Content-Range ${JSON.stringify(cr)}`);
      }
      return this.counted(await readBodyBounded(res, what, { expected: end - start }));
    }
    if (res.status === 200) {
      // The host ignored Range and sends the whole file: read no more than the bundle says it has.
      const whole = await readBodyBounded(res, `${ref.path} (the server ignored the Range request and sent the whole file)`, { expected: ref.bytes });
      return this.counted(whole).subarray(start, end);
    }
    res.body?.cancel().catch(() => {});
    throw new Error(`${what} of ${url.href}: HTTP ${res.status}`);
  }

  private counted(bytes: Uint8Array): Uint8Array {
    this.counters.networkBytes += bytes.byteLength;
    return bytes;
  }

  /** The file's bytes, read no further than `bound` allows. */
  private async fetchBody(url: URL, what: string, bound: BodyBound): Promise<Uint8Array> {
    let res: Response;
    try {
      res = await this.fetchImpl(url);
    } catch (e) {
      throw new Error(`${what}: could not fetch ${url.href} (${(e as Error).message})`);
    }
    this.counters.requests++;
    if (!res.ok) {
      res.body?.cancel().catch(() => {});
      throw new Error(`${what}: ${url.href} answered HTTP ${res.status}`);
    }
    // Static hosts and dev servers often answer a missing file with the site's HTML page.
    if ((res.headers.get('content-type') ?? '').includes('text/html')) {
      res.body?.cancel().catch(() => {});
      throw new Error(`${what}: ${url.href} answered with an HTML page, not the file (is the file missing?)`);
    }
    return this.counted(await readBodyBounded(res, what, bound));
  }
}
