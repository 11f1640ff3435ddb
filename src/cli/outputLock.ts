// The output lock: one run at a time writes a bundle folder.
// A file `.NAME.lock` created exclusively, holding the writer's pid and host. A lock whose process
// is gone (same host, no such pid) is taken over at once: a killed run must not block its own rerun.
// (proper-lockfile decides staleness by mtime, which would make a rerun wait out its stale period.)
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { CliError, errnoText } from './errors.ts';

const held = new Map<string, string>();

function lockPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock on target for this process (released by unlockOutput or at exit); throws if another
 * live run holds it. Returns false when this process already held it.
 */
export function lockOutput(target: string, flag: string): boolean {
  if (held.has(target)) return false;
  const file = lockPath(target);
  try {
    mkdirSync(path.dirname(target), { recursive: true }); // checked before: the nearest existing folder takes new files
  } catch (e) {
    throw new CliError(`${flag} ${target}: cannot create its folder (${errnoText(e)})`, 2);
  }
  const me = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      held.set(target, file);
      // Once per process: a lock taken and released many times (tests, a long-lived caller) must not pile up listeners.
      if (!process.listeners('exit').includes(releaseAll)) process.on('exit', releaseAll);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CliError(`${flag} ${target}: cannot create its lock ${file} (${errnoText(e)})`, 2);
    }
    let owner: { pid?: number; host?: string; started?: string } = {};
    try {
      owner = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      /* empty or torn: the writer died between open and write */
    }
    const live = owner.pid !== undefined && (owner.host !== hostname() || alive(owner.pid));
    if (live)
      throw new CliError(
        `${flag} ${target}: another run (pid ${owner.pid} on ${owner.host}, since ${owner.started}) is writing it; wait for it to finish (or remove ${file} if that run is gone)`,
        2,
      );
    try {
      unlinkSync(file); // its process is gone
    } catch {
      /* another run took it over first: the next attempt sees its lock */
    }
  }
  throw new CliError(`${flag} ${target}: another run took its lock just now; try again`, 2);
}

export function unlockOutput(target: string): void {
  const file = held.get(target);
  if (!file) return;
  held.delete(target);
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

function releaseAll(): void {
  for (const t of [...held.keys()]) unlockOutput(t);
}
