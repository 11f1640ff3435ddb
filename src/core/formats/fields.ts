// Small readers for untrusted JSON: every error names the file and the field path,
// e.g. `manifest.json: storage.dtype must be one of f32, f16, int8, got "bf16"`.

export type JsonObject = Record<string, unknown>;

/** A short JSON rendering of a bad value for error messages. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function fail(file: string, path: string, problem: string): never {
  throw new Error(path ? `${file}: ${path} ${problem}` : `${file}: ${problem}`);
}

/**
 * The largest JSON file (manifest.json, model.json, a metadata shard) a reader accepts: a manifest
 * of a 10M-passage index with per-chunk hashes is a few MB; anything near this is not a bundle.
 */
export const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024;
/** The deepest nesting of arrays and objects a bundle's JSON may have (ours reach 5). */
export const MAX_JSON_DEPTH = 64;

/** Refuses JSON nested deeper than MAX_JSON_DEPTH before JSON.parse recurses into it. */
function checkJsonDepth(text: string, file: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) fail(file, '', `nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels; not a bundle file`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** JSON.parse of text or UTF-8 bytes, with the file named on failure; size and depth bounded. */
export function parseJsonText(input: string | Uint8Array, file: string): unknown {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > MAX_JSON_FILE_BYTES) fail(file, '', `is ${size} bytes, over the ${MAX_JSON_FILE_BYTES}-byte limit for a bundle's JSON file`);
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      fail(file, '', 'is not valid UTF-8');
    }
  }
  checkJsonDepth(text, file);
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(file, '', `is not valid JSON (${(e as Error).message})`);
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads typed fields of one JSON object; `path` is where the object sits in the file. */
export class ObjectReader {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly obj: JsonObject,
  ) {}

  static of(file: string, path: string, v: unknown): ObjectReader {
    if (!isObject(v)) fail(file, path, `must be an object, got ${show(v)}`);
    return new ObjectReader(file, path, v);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  raw(key: string): unknown {
    const v = this.obj[key];
    if (v === undefined) fail(this.file, join(this.path, key), 'is missing');
    return v;
  }

  where(key: string | number): string {
    return join(this.path, key);
  }

  string(key: string, opts: { nonEmpty?: boolean } = {}): string {
    const v = this.raw(key);
    if (typeof v !== 'string') fail(this.file, this.where(key), `must be a string, got ${show(v)}`);
    if (opts.nonEmpty && v.length === 0) fail(this.file, this.where(key), 'must not be empty');
    return v;
  }

  literal<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.raw(key);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      fail(this.file, this.where(key), `must be one of ${allowed.join(', ')}, got ${show(v)}`);
    }
    return v as T;
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (typeof v !== 'boolean') fail(this.file, this.where(key), `must be true or false, got ${show(v)}`);
    return v;
  }

  optionalBool(key: string): boolean | undefined {
    return this.has(key) ? this.bool(key) : undefined;
  }

  int(key: string, min = 0): number {
    return checkInt(this.raw(key), this.file, this.where(key), min);
  }

  number(key: string, opts: { positive?: boolean } = {}): number {
    const v = this.raw(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(this.file, this.where(key), `must be a finite number, got ${show(v)}`);
    if (opts.positive && !(v > 0)) fail(this.file, this.where(key), `must be > 0, got ${show(v)}`);
    return v;
  }

  array(key: string): unknown[] {
    const v = this.raw(key);
    if (!Array.isArray(v)) fail(this.file, this.where(key), `must be an array, got ${show(v)}`);
    return v;
  }

  object(key: string): ObjectReader {
    return ObjectReader.of(this.file, this.where(key), this.raw(key));
  }

  /** A lowercase hex SHA-256 digest. */
  sha256(key: string): string {
    const v = this.string(key);
    if (!/^[0-9a-f]{64}$/.test(v)) fail(this.file, this.where(key), `must be 64 lowercase hex digits (SHA-256), got ${show(v)}`);
    return v;
  }

  /** A relative path inside the bundle: no leading slash, no "." or ".." segments, no backslashes. */
  relPath(key: string): string {
    const v = this.string(key);
    if (!isSafeRelativePath(v)) {
      fail(this.file, this.where(key), `must be a relative path of [A-Za-z0-9._-] segments separated by "/", not starting with "." or "/", got ${show(v)}`);
    }
    return v;
  }
}

export function checkInt(v: unknown, file: string, path: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    fail(file, path, `must be an integer >= ${min}, got ${show(v)}`);
  }
  return v;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
export function isSafeRelativePath(p: string): boolean {
  return p.length > 0 && p.length <= 255 && p.split('/').every((s) => SEGMENT.test(s));
}

/** What a descriptor (model.json, manifest.json) says it is: its format tag and the newest version read. */
export interface DescriptorFormat {
  tag: string;
  supported: number;
  /** Why another known tag is the wrong file, for the message. */
  hint: Record<string, string>;
}

/**
 * The descriptor's top-level object, with `format` and `format_version` checked first, so a newer
 * or foreign file is refused with the real reason rather than a confusing field error further down.
 */
export function readDescriptor(json: unknown, file: string, f: DescriptorFormat): { r: ObjectReader; formatVersion: number } {
  const r = ObjectReader.of(file, '', json);
  const format = r.raw('format');
  if (format !== f.tag) {
    const extra = typeof format === 'string' && f.hint[format] ? ` (${f.hint[format]})` : '';
    fail(r.file, 'format', `must be ${show(f.tag)}, got ${show(format)}${extra}`);
  }
  const formatVersion = r.int('format_version', 1);
  if (formatVersion > f.supported) {
    fail(r.file, '', `format_version ${formatVersion} is newer than this client supports (${f.supported}); upgrade hypencoder-web`);
  }
  return { r, formatVersion };
}
