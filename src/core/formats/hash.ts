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
  const out = new Uint8Array(digest);
  let hex = '';
  for (let i = 0; i < out.length; i++) hex += out[i].toString(16).padStart(2, '0');
  return hex;
}
