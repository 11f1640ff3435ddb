// IndexedDB cache of verified bundle files (vector tiles, metadata, the query encoder), through
// idb-keyval. Entries are keyed by the SHA-256 of the JSON file that lists them (manifest.json or
// model.json) plus the file's path, so a new index version never reads an old tile; when a bundle
// URL's JSON hash changes, that URL's old entries are deleted. Every failure (quota, private mode,
// no IndexedDB) turns the cache off for the rest of the load: the page then runs from the network.
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';

export type CacheState = 'on' | 'off';

export class FileCache {
  private store: UseStore | null;
  private why = '';

  constructor(dbName = 'hypencoder-web', enabled = true) {
    if (!enabled) {
      this.store = null;
      this.why = 'turned off by the caller';
      return;
    }
    try {
      this.store = typeof indexedDB === 'undefined' ? null : createStore(dbName, 'files');
      if (!this.store) this.why = 'IndexedDB is not available';
    } catch (e) {
      this.store = null;
      this.why = `IndexedDB failed: ${(e as Error).message}`;
    }
  }

  get state(): CacheState {
    return this.store ? 'on' : 'off';
  }

  /** Why the cache is off ('' when on). */
  get reason(): string {
    return this.why;
  }

  private fail(e: unknown): void {
    this.store = null;
    this.why = `IndexedDB failed: ${(e as Error)?.message ?? String(e)}`;
  }

  /**
   * Records that `bundleUrl` now has the JSON hash `version` and deletes the entries of the
   * versions it had before.
   */
  async useVersion(bundleUrl: string, version: string): Promise<void> {
    if (!this.store) return;
    try {
      const current = `version|${bundleUrl}`;
      const previous = await get<string>(current, this.store);
      if (previous && previous !== version) {
        const stale = (await keys(this.store)).filter((k) => typeof k === 'string' && k.startsWith(`file|${previous}|`));
        await Promise.all(stale.map((k) => del(k, this.store!)));
      }
      await set(current, version, this.store);
    } catch (e) {
      this.fail(e);
    }
  }

  async get(version: string, path: string): Promise<Uint8Array | undefined> {
    if (!this.store) return undefined;
    try {
      const v = await get<Uint8Array>(`file|${version}|${path}`, this.store);
      return v instanceof Uint8Array ? v : undefined;
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }

  async put(version: string, path: string, bytes: Uint8Array): Promise<void> {
    if (!this.store) return;
    try {
      await set(`file|${version}|${path}`, bytes, this.store);
    } catch (e) {
      this.fail(e); // quota exceeded, private mode, …: carry on without the cache
    }
  }
}
