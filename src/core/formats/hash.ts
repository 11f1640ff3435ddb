// SHA-256 through WebCrypto, which exists in browsers (secure contexts only) and in Node >= 20.

/** Lowercase hex SHA-256 of the bytes. */
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    // Browsers hide crypto.subtle on plain-http pages other than localhost.
    throw new Error('sha256: crypto.subtle is unavailable (serve the page over https or from localhost); cannot verify file hashes');
  }
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const digest = await subtle.digest('SHA-256', view as Uint8Array<ArrayBuffer>);
  return hexOf(new Uint8Array(digest));
}

/** The 32 bytes of the SHA-256 of the concatenated parts. */
export async function sha256Bytes(...parts: Uint8Array[]): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('sha256: crypto.subtle is unavailable (serve the page over https or from localhost); cannot verify file hashes');
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return new Uint8Array(await subtle.digest('SHA-256', all));
}

export function hexOf(bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += bytes[i].toString(16).padStart(2, '0');
  return hex;
}
