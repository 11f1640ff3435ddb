// Where the CLI writes: every output path is checked before any work, a folder is replaced only
// when it holds a bundle this tool wrote, one run at a time writes it (a lock beside it), and the
// leftovers of killed runs are cleaned (or the old bundle put back) by the next run.
//
// Replacement is two rename(2) calls back to back, with no I/O between them (old bundle aside,
// new one in): POSIX has no atomic exchange of two non-empty folders, and Linux's
// renameat2(RENAME_EXCHANGE) is not reachable from Node. A run killed in that window leaves the old
// bundle in `.NAME.old-*`, and the next run on NAME puts it back before anything else.
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  statfsSync,
} from 'node:fs';
import path from 'node:path';
import { CliError, errnoText } from './errors.ts';
import { MAX_DOC_COUNT, merkleMemberPath } from '../core/formats/index.ts';

/** statfs magic numbers of kernel pseudo-filesystems, where a bundle can never live. */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x1cd1: 'devpts',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0xcafe4a11: 'bpf',
  0x6165676c: 'pstore',
  0x62656570: 'configfs',
  0x65735543: 'fusectl',
};
/** Mount points of pseudo-filesystems by convention (/dev is devtmpfs, whose magic is tmpfs's). */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

/** What a folder must hold to be replaceable with --force: the bundle's JSON and its format tag. */
export interface BundleRecognizer {
  /** manifest.json or model.json */
  file: string;
  format: string;
  /** What such a bundle is called in messages ("an index"). */
  name: string;
  /** Paths (relative, '/'-separated) the JSON lists (`dir`: the folder, where the JSON points into nested bundles); other files in the folder make it not ours alone. */
  listed: (json: Record<string, unknown>, dir: string) => string[];
  /** Files this tool writes beside the listed ones. */
  extras?: string[];
}

/** The member paths of a Merkle set descriptor as written (unvalidated JSON; nothing for anything else). */
function setMembers(set: unknown): string[] {
  const { folder, count } = (set ?? {}) as { folder?: unknown; count?: unknown };
  if (typeof folder !== 'string' || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > MAX_DOC_COUNT) return [];
  return Array.from({ length: count }, (_, j) => merkleMemberPath(folder, j));
}

export const INDEX_BUNDLE: BundleRecognizer = {
  file: 'manifest.json',
  format: 'hypencoder-index',
  name: 'an index',
  // Listed files, and the members of its Merkle sets (fragments, lexical chunks), which files does not list.
  listed: (j) => [
    ...(Array.isArray(j.files) ? j.files.map((f) => String((f as { path?: unknown })?.path ?? '')) : []),
    ...setMembers((j.documents as { fragments?: unknown } | undefined)?.fragments),
    ...setMembers((j.lexical as { chunks?: unknown } | undefined)?.chunks),
  ],
};

/** A folder of shards and their list (index --shards K): shards.json, and each shard's manifest.json and the files it lists. */
export const SHARD_SET: BundleRecognizer = {
  file: 'shards.json',
  format: 'hypencoder-shards',
  name: 'a shard list',
  listed: (j, dir) =>
    (Array.isArray(j.shards) ? j.shards : []).flatMap((s) => {
      const p = String((s as { path?: unknown })?.path ?? '');
      let manifest: Record<string, unknown> = {};
      try {
        manifest = JSON.parse(readFileSync(path.join(dir, p, 'manifest.json'), 'utf8'));
      } catch {
        /* unreadable: its files count as foreign, so --force refuses the folder */
      }
      return [`${p}/manifest.json`, ...INDEX_BUNDLE.listed(manifest, path.join(dir, p)).map((f) => `${p}/${f}`)];
    }),
};

/** A model/ + index/ pair in one folder (writeModelAndIndex: synthetic and benchmark bundles). */
export const MODEL_AND_INDEX: BundleRecognizer = {
  file: 'index/manifest.json',
  format: 'hypencoder-index',
  name: 'a model and index pair',
  listed: (j, dir) => INDEX_BUNDLE.listed(j, dir).map((p) => `index/${p}`),
  extras: ['model/model.json'],
};

function isUnder(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** `p` with every link in its existing part resolved; the missing rest appended as written. */
function realPathOf(p: string): string {
  const rest: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    try {
      return path.join(realpathSync(cur), ...rest);
    } catch (e) {
      const up = path.dirname(cur);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw new CliError(`${cur}: a file stands where a folder is needed (${errnoText(e)})`, 2);
      if (code !== 'ENOENT' || up === cur) throw new CliError(`${cur}: ${errnoText(e)}`, 2);
      rest.unshift(path.basename(cur));
      cur = up;
    }
  }
}

/** The nearest folder at or above `p` that exists. */
function nearestExisting(p: string): string {
  let cur = p;
  while (!existsSync(cur) && path.dirname(cur) !== cur) cur = path.dirname(cur);
  return cur;
}

/** Refuses a location on a pseudo-filesystem, or one this user cannot create files in. */
function checkWritableFolder(flag: string, shown: string, dir: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new CliError(`${flag} ${shown}: ${dir}: ${errnoText(e)}`, 2);
  }
  if (!st.isDirectory()) throw new CliError(`${flag} ${shown}: ${dir} is not a folder`, 2);
  const root = PSEUDO_ROOTS.find((r) => isUnder(dir, r));
  let fsName: string | undefined = root ? root.slice(1) : undefined;
  if (!fsName) {
    try {
      fsName = PSEUDO_FS[statfsSync(dir).type];
    } catch {
      /* statfs unsupported: the write test below still decides */
    }
  }
  if (fsName) throw new CliError(`${flag} ${shown}: ${dir} is on a kernel pseudo-filesystem (${fsName}); choose a folder on disk`, 2);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new CliError(`${flag} ${shown}: cannot create files in ${dir} (${errnoText(e)})`, 2);
  }
}

export interface OutputFolderCheck {
  /** The option's name in messages (--out). */
  flag: string;
  force?: boolean;
  /** Input paths the output must not replace or contain. */
  inputs?: string[];
  recognizer: BundleRecognizer;
}

/**
 * Checks an output folder before any work and returns its real absolute path (a symbolic link to a
 * folder is followed: the link stays, its target gets the new bundle). Refused: an empty path; the
 * current folder or one above it; an input or a folder above one; a folder on a pseudo-filesystem or
 * in a read-only place; a non-empty folder without --force; with --force, a folder that is not a
 * bundle this tool wrote, or that holds files the bundle does not list.
 */
export function checkOutputFolder(out: string, o: OutputFolderCheck): string {
  const shown = JSON.stringify(out);
  if (out.trim() === '') throw new CliError(`${o.flag} is empty (an unset shell variable?); give the folder to write`, 2);
  const target = path.resolve(out);
  try {
    if (lstatSync(target).isSymbolicLink()) {
      try {
        realpathSync(target);
      } catch (e) {
        throw new CliError(`${o.flag} ${shown}: a symbolic link that leads nowhere (${errnoText(e)})`, 2);
      }
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new CliError(`${o.flag} ${shown}: ${nearestExisting(target)}: a file stands where a folder is needed`, 2);
    if (code !== 'ENOENT') throw new CliError(`${o.flag} ${shown}: ${errnoText(e)}`, 2);
  }
  // Compare real paths, so that ../here or a link to the current folder is seen for what it is.
  const real = realPathOf(target);
  const cwd = realpathSync(process.cwd());
  if (isUnder(cwd, real)) throw new CliError(`${o.flag} ${shown}: is the current folder or a folder above it; give a folder of its own for the bundle`, 2);
  for (const input of o.inputs ?? []) {
    if (isUnder(realPathOf(input), real))
      throw new CliError(`${o.flag} ${shown}: is the input ${JSON.stringify(input)} or a folder above it; give another folder for the bundle`, 2);
  }
  let exists = false;
  try {
    const st = statSync(real);
    exists = true;
    if (!st.isDirectory()) throw new CliError(`${o.flag} ${shown}: exists and is not a folder`, 2);
  } catch (e) {
    if (e instanceof CliError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`${o.flag} ${shown}: ${errnoText(e)}`, 2);
  }
  // The staging folder and the lock live beside the target: its parent must take new files.
  checkWritableFolder(o.flag, shown, exists ? path.dirname(real) : nearestExisting(path.dirname(real)));
  if (exists) checkReplaceable(real, o, shown);
  return real;
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(path.join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

function checkReplaceable(dir: string, o: OutputFolderCheck, shown: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw new CliError(`${o.flag} ${shown}: cannot list it (${errnoText(e)})`, 2);
  }
  if (entries.length === 0) return;
  const r = o.recognizer;
  let json: Record<string, unknown> | null = null;
  try {
    const bytes = readFileSync(path.join(dir, r.file));
    const v = bytes.byteLength < 64 << 20 ? JSON.parse(bytes.toString('utf8')) : null;
    if (v && typeof v === 'object' && v.format === r.format) json = v;
  } catch {
    json = null;
  }
  if (!o.force) {
    throw new CliError(
      `${o.flag} ${shown}: ${json ? `already holds ${r.name}` : 'exists and is not empty'}; ${json ? 'pass --force to replace it' : 'choose an empty or new folder'}`,
      2,
    );
  }
  if (!json)
    throw new CliError(
      `${o.flag} ${shown}: is not a bundle this tool wrote (no ${r.file} with "format": "${r.format}"); --force replaces only such a folder, so nothing was touched`,
      2,
    );
  const known = new Set([r.file, ...(r.extras ?? []), ...r.listed(json, dir)]);
  const foreign = listFiles(dir).filter((f) => !known.has(f));
  if (foreign.length > 0) {
    const list =
      foreign
        .slice(0, 3)
        .map((f) => JSON.stringify(f))
        .join(', ') + (foreign.length > 3 ? ` and ${foreign.length - 3} more` : '');
    throw new CliError(
      `${o.flag} ${shown}: holds files its ${r.file} does not list (${list}); --force would delete them, so nothing was touched: move them out first`,
      2,
    );
  }
}

/** Sibling names a run on `target` may leave: staging folders, old bundles set aside, the lock. */
function siblings(target: string): { tmp: string[]; old: string[] } {
  const dir = path.dirname(target);
  const base = `.${path.basename(target)}.`;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return { tmp: [], old: [] };
  }
  const pick = (kind: string) => names.filter((n) => n.startsWith(`${base}${kind}-`)).map((n) => path.join(dir, n));
  return { tmp: pick('tmp'), old: pick('old') };
}

/**
 * With the lock held: puts back an old bundle that a run killed between its two renames left aside
 * (when `target` is missing), then removes every staging folder and set-aside bundle. Returns what
 * it did, for the log.
 */
export function cleanLeftovers(target: string, recognizer: BundleRecognizer): string[] {
  const done: string[] = [];
  const { tmp, old } = siblings(target);
  if (!existsSync(target)) {
    // Older runs nested the set-aside bundle as .old-*/d.
    const candidates = old.flatMap((o) => [o, path.join(o, 'd')]).filter((c) => existsSync(path.join(c, recognizer.file)));
    if (candidates.length > 0) {
      renameSync(candidates[0], target);
      done.push(`put back the previous bundle that an interrupted run had set aside (${path.basename(candidates[0])})`);
    }
  }
  for (const p of [...tmp, ...old]) {
    if (!existsSync(p)) continue;
    rmSync(p, { recursive: true, force: true });
    done.push(`removed ${path.basename(p)}, left by an interrupted run`);
  }
  return done;
}

/** Stages a folder beside target (same filesystem, so the final rename is atomic). */
export function stagingFolder(target: string): string {
  return mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.tmp-`));
}

/** Puts `staged` in target's place: one rename, or, over an existing bundle, two back to back. */
export function replaceFolder(staged: string, target: string): void {
  try {
    renameSync(staged, target); // target absent, or an empty folder
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR') throw e;
  }
  const aside = mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.old-`));
  renameSync(target, aside); // replaces the empty folder mkdtemp made
  try {
    renameSync(staged, target);
  } catch (e) {
    renameSync(aside, target);
    throw e;
  }
  rmSync(aside, { recursive: true, force: true });
}

/** Checks an output file (eval --run): its folder exists and takes files, and it is not a folder. */
export function checkOutputFile(file: string, flag: string): string {
  const shown = JSON.stringify(file);
  if (file.trim() === '') throw new CliError(`${flag} is empty; give the file to write`, 2);
  const abs = path.resolve(file);
  try {
    if (statSync(abs).isDirectory()) throw new CliError(`${flag} ${shown}: is a folder; give a file name`, 2);
  } catch (e) {
    if (e instanceof CliError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`${flag} ${shown}: ${errnoText(e)}`, 2);
  }
  const dir = path.dirname(abs);
  if (!existsSync(dir)) throw new CliError(`${flag} ${shown}: its folder ${dir} does not exist`, 2);
  checkWritableFolder(flag, shown, realpathSync(dir));
  return abs;
}
