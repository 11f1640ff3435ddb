// What the page imports: a comlink proxy to the engine running in a module worker.
import * as Comlink from 'comlink';
import type { SearchEngine } from './searchEngine.ts';

export type { EngineInfo, SearchHit, SearchResponse } from './searchEngine.ts';
export type { LoadProgress } from './bundleLoader.ts';

export function startEngine(): Comlink.Remote<SearchEngine> {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'hypencoder-engine' });
  return Comlink.wrap<SearchEngine>(worker);
}

export { Comlink };
