// A file listed by a bundle's JSON: where it is, how long it is, and its SHA-256.
import { ObjectReader, fail } from './fields.ts';
import { sha256Hex } from './hash.ts';

export interface FileRef {
  /** Relative to the bundle directory (the folder holding model.json or manifest.json). */
  path: string;
  bytes: number;
  sha256: string;
}

export function readFileRef(r: ObjectReader): FileRef {
  return { path: r.relPath('path'), bytes: r.int('bytes', 0), sha256: r.sha256('sha256') };
}

/** Throws unless `bytes` has exactly the listed length and hash; the message names the file. */
export async function verifyFile(entry: FileRef, bytes: Uint8Array | ArrayBuffer): Promise<void> {
  const got = bytes.byteLength;
  if (got !== entry.bytes) {
    const why = got < entry.bytes ? 'truncated' : 'oversized';
    fail(entry.path, '', `${why}: expected ${entry.bytes} bytes, got ${got}`);
  }
  const hash = await sha256Hex(bytes);
  if (hash !== entry.sha256) {
    fail(entry.path, '', `SHA-256 mismatch: the bundle lists ${entry.sha256}, the file has ${hash}`);
  }
}
