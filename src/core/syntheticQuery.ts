// The synthetic demo model has no query encoder: a query's q-net is drawn from a generator seeded
// by the query text, so the same query always gives the same (meaningless) ranking. It exercises
// the whole scoring path and nothing more; the page says so.
import { randomWeights, seededRandom, type QNetArchitecture, type QNetWeights } from './qnet.ts';

/** FNV-1a over the UTF-16 code units of the trimmed, lower-cased query. */
export function queryHash(query: string): number {
  let h = 0x811c9dc5;
  const q = query.trim().toLowerCase();
  for (let i = 0; i < q.length; i++) {
    h ^= q.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function syntheticQueryWeights(arch: QNetArchitecture, query: string): QNetWeights {
  return randomWeights(arch, seededRandom(queryHash(query)));
}
