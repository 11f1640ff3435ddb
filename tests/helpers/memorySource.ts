// A bundle held in memory as the bundle reader's byte source (src/core/formats/bundleReader.ts), so
// tests can damage files and watch what the reader asks for. It returns whatever it holds, of any
// size: length and hash are the reader's to check.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteSource, FileRef, KeptFiles } from '../../src/core/formats/index.ts';

export class MemorySource implements ByteSource {
  /** Every read, as `json <path>`, `upto <path>`, `file <path>` or `range <path> <start>-<end>`. */
  readonly reads: string[] = [];

  constructor(
    readonly files: Map<string, Uint8Array>,
    readonly kept?: KeptFiles,
  ) {}

  /** Every file under `dir`, by its path relative to it. */
  static async of(dir: string, kept?: KeptFiles): Promise<MemorySource> {
    const files = new Map<string, Uint8Array>();
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const abs = join(e.parentPath, e.name);
      files.set(
        abs
          .slice(dir.length + 1)
          .split('\\')
          .join('/'),
        new Uint8Array(await readFile(abs)),
      );
    }
    return new MemorySource(files, kept);
  }

  private get(path: string): Uint8Array {
    const b = this.files.get(path);
    if (!b) throw new Error(`${path}: missing from the bundle`);
    return b;
  }

  async readJson(path: string, maxBytes: number): Promise<Uint8Array> {
    this.reads.push(`json ${path}`);
    const b = this.get(path);
    if (b.byteLength > maxBytes) throw new Error(`${path}: over the ${maxBytes}-byte limit`);
    return b;
  }

  async readUpTo(path: string, maxBytes: number): Promise<Uint8Array> {
    this.reads.push(`upto ${path}`);
    const b = this.get(path);
    if (b.byteLength > maxBytes) throw new Error(`${path}: over the ${maxBytes}-byte limit`);
    return b;
  }

  async readFile(ref: FileRef): Promise<Uint8Array> {
    this.reads.push(`file ${ref.path}`);
    return this.get(ref.path);
  }

  async readRange(ref: FileRef, start: number, end: number): Promise<Uint8Array> {
    this.reads.push(`range ${ref.path} ${start}-${end}`);
    return this.get(ref.path).slice(start, end);
  }
}

/** KeptFiles in a Map, as the worker's IndexedDB cache keeps them (per version). */
export class MemoryKept implements KeptFiles {
  readonly store = new Map<string, Uint8Array>();
  version = '';

  async useVersion(version: string): Promise<void> {
    this.version = version;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.store.get(`${this.version}|${key}`);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.store.set(`${this.version}|${key}`, bytes);
  }
}
