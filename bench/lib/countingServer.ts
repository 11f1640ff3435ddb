// A plain static server for byte budgets: serves a folder as a static host would (sirv: no
// compression, no precompressed variants, Range and ETag as usual) and records what each response
// put on the wire (status line and headers, and body bytes), so a measurement counts bytes where a
// host does, whatever the browser's own accounting sees (workers, service worker fetches).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';

export interface Served {
  path: string;
  status: number;
  bytes: number;
  at: number;
}

export interface CountingServer {
  url: string;
  served: Served[];
  /** Responses finished after `from` and by `to` (ms since the epoch). */
  between(from: number, to?: number): Served[];
  /** Every response on stderr: ms since `t0`, bytes, status, path (a script's --list). */
  list(t0: number): void;
  close(): Promise<void>;
}

/** Bytes and requests of some responses, and the bytes by the kind `kindOf` gives each path. */
export function tally(rows: Served[], kindOf: (path: string) => string): { total: number; requests: number; by_kind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  for (const r of rows) byKind[kindOf(r.path)] = (byKind[kindOf(r.path)] ?? 0) + r.bytes;
  return { total: rows.reduce((s, r) => s + r.bytes, 0), requests: rows.length, by_kind: byKind };
}

export async function startCountingServer(dir: string, port = 0): Promise<CountingServer> {
  const serve = sirv(dir, { dev: false, etag: true, gzip: false, brotli: false, single: false });
  const served: Served[] = [];
  const server = createServer((req, res) => {
    let body = 0;
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
    const size = (chunk: unknown) => (typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.byteLength : 0);
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      body += size(chunk);
      return write(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk !== undefined && typeof chunk !== 'function') body += size(chunk);
      return end(chunk, ...rest);
    }) as typeof res.end;
    res.on('finish', () => {
      const head = (res as unknown as { _header?: string })._header ?? '';
      served.push({ path: new URL(req.url ?? '/', 'http://x').pathname, status: res.statusCode, bytes: Buffer.byteLength(head) + body, at: Date.now() });
    });
    serve(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: p } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${p}/`,
    served,
    between: (from, to = Number.POSITIVE_INFINITY) => served.filter((r) => r.at > from && r.at <= to),
    list: (t0) => {
      for (const r of served) process.stderr.write(`${String(r.at - t0).padStart(7)} ms ${String(r.bytes).padStart(9)} ${r.status} ${r.path}\n`);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
