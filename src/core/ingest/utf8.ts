// Strict UTF-8 decoding with the failing line named, so a bad byte in line 5231 of a 2 GB dump
// is reported as `corpus.jsonl:5231: not valid UTF-8 (byte 0xe9 at column 17)`.

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes UTF-8 (a leading byte-order mark is dropped) or throws an InputError naming file:line;
 * `firstLine` is the line number of the bytes' first line (a streaming reader decodes line by line).
 */
export function decodeUtf8Strict(bytes: Uint8Array, file: string, firstLine = 1): string {
  try {
    const text = decoder.decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    // Find the first line that does not decode, and the byte within it.
    let start = 0;
    let line = firstLine;
    while (start <= bytes.length) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      const slice = bytes.subarray(start, end);
      try {
        decoder.decode(slice);
      } catch {
        const col = firstBadByte(slice);
        const b = slice[col] ?? 0;
        throw new InputError(
          `${file}:${line}: not valid UTF-8 (byte 0x${b.toString(16).padStart(2, '0')} at column ${col + 1}); convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
        );
      }
      start = end + 1;
      line++;
    }
    throw new InputError(`${file}: not valid UTF-8 (truncated multi-byte sequence at the end)`);
  }
}

/** Index of the first byte that starts an invalid or truncated UTF-8 sequence (RFC 3629). */
function firstBadByte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k < len; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += len;
  }
  return i;
}
