// Text from documents shown to a person: a URL in a hit, a title or snippet in a terminal.
// Documents are untrusted. A URL shown decoded can hide a right-to-left override
// (`example.org/%E2%80%AE...` reads backwards) and a terminal obeys ESC and BEL bytes, so both are
// neutralized here, in one place, for the page and the CLI.

/** Bidirectional formatting characters (embeddings, overrides, isolates, marks). */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
/** C0 and C1 control characters and DEL. */
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/gu;
/** Characters a URL must never show literally: controls, bidi formatting, and invisible separators. */
const URL_UNSAFE = /[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/gu;

function percentEncode(ch: string): string {
  return Array.from(new TextEncoder().encode(ch), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/**
 * A URL as a person should read it: percent-escapes decoded where they stand for ordinary
 * characters (`caf%C3%A9` → `café`), but controls, bidi formatting and invisible characters shown
 * percent-encoded, whether they came encoded or raw. The href itself is never changed by this.
 */
export function displayUrl(url: string): string {
  let shown: string;
  try {
    shown = decodeURI(url);
  } catch {
    shown = url; // a malformed escape: show it as written
  }
  return shown.replace(URL_UNSAFE, percentEncode);
}

/**
 * Text for a terminal: ANSI escape sequences removed, other control characters (tabs and newlines
 * too) turned into spaces, bidi formatting characters removed.
 */
export function terminalText(text: string): string {
  return text
    .replace(/\u001B\[[0-?]*[ -/]*[@-~]/gu, '') // CSI sequences (colors, cursor moves)
    .replace(/\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)?/gu, '') // OSC sequences (titles, links)
    .replace(CONTROL, ' ')
    .replace(BIDI, '');
}
