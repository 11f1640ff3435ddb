// The one way this tool writes a single file: into a temporary sibling, flushed, then renamed over
// the target, so a reader (or a run killed half-way) sees the old file or the new one, never a part.
// Folders of files (bundles) go through outputPath.ts's staging folder instead.
import { createWriteStream, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** `.NAME.tmp-PID` beside the target: hidden, and named by the process that writes it. */
export function tempPathFor(file: string): string {
  const abs = path.resolve(file);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.tmp-${process.pid}`);
}

/** Writes `data` to `file` atomically; on any failure the temporary file is removed and the target untouched. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The same for scripts that stay synchronous. */
export function writeFileAtomicSync(file: string, data: Uint8Array | string): void {
  const tmp = tempPathFor(file);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Streams lines (or chunks) into `file` atomically: `write` is called with a writer; the file appears only when it resolves. */
export async function writeStreamAtomic(file: string, write: (put: (chunk: string | Uint8Array) => void) => void | Promise<void>): Promise<void> {
  const tmp = tempPathFor(file);
  const out = createWriteStream(tmp);
  try {
    await write((chunk) => {
      out.write(chunk);
    });
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    await rename(tmp, file);
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}
