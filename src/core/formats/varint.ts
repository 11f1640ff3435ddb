// Unsigned LEB128 varints (at most 5 bytes), as the binary files of the lexical chunks and the
// documents map store counts and numbers (docs/FORMATS.md).

export function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** Reads varints from `bytes` in order; errors name `file`, what was being read and the byte. */
export class VarintReader {
  at = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {}

  next(what: string): number {
    let n = 0;
    for (let scale = 1; ; scale *= 0x80) {
      if (this.at >= this.bytes.length) throw new Error(`${this.file}: ends inside ${what} (byte ${this.at})`);
      const b = this.bytes[this.at++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      if (scale >= 2 ** 28) throw new Error(`${this.file}: ${what} at byte ${this.at} is longer than 5 bytes`);
    }
  }
}
