// displayUrl and terminalText (src/core/displayText.ts): what a person sees of a document's URL in a
// hit, and of its title or snippet in a terminal.
import { describe, expect, it } from 'vitest';
import { displayUrl, terminalText } from '../src/core/displayText.ts';

describe('displayUrl', () => {
  it('keeps a right-to-left override percent-encoded, whether it came encoded or raw', () => {
    // "%E2%80%AE" is U+202E: shown decoded, "…/\u202Eexe.txt" would read "…/txt.exe".
    expect(displayUrl('https://example.org/%E2%80%AEexe.txt')).toBe('https://example.org/%E2%80%AEexe.txt');
    expect(displayUrl('https://example.org/\u202Eexe.txt')).toBe('https://example.org/%E2%80%AEexe.txt');
    expect(displayUrl('https://example.org/a%E2%81%A6b')).toBe('https://example.org/a%E2%81%A6b'); // U+2066, an isolate
  });

  it('decodes escapes of ordinary characters', () => {
    expect(displayUrl('https://example.org/caf%C3%A9/%E6%97%A5%E6%9C%AC')).toBe('https://example.org/café/日本');
  });

  it('shows controls and invisible characters percent-encoded', () => {
    expect(displayUrl('https://example.org/a%07b%1Bc')).toBe('https://example.org/a%07b%1Bc');
    expect(displayUrl('https://example.org/a\u0000b\u007Fc\u0085d')).toBe('https://example.org/a%00b%7Fc%C2%85d');
    expect(displayUrl('https://example.org/pay\u200Bpal\uFEFF')).toBe('https://example.org/pay%E2%80%8Bpal%EF%BB%BF');
    expect(displayUrl('https://example.org/line\u2028break')).toBe('https://example.org/line%E2%80%A8break');
  });

  it('leaves escapes of reserved characters as they are (decodeURI keeps them)', () => {
    expect(displayUrl('https://example.org/a%2Fb?x=%26y')).toBe('https://example.org/a%2Fb?x=%26y');
  });

  it('shows a malformed escape as written, with unsafe characters still encoded', () => {
    expect(displayUrl('https://example.org/%E2%80')).toBe('https://example.org/%E2%80');
    expect(displayUrl('https://example.org/%zz\u202E')).toBe('https://example.org/%zz%E2%80%AE');
  });
});

describe('terminalText', () => {
  it('removes ANSI color and cursor sequences', () => {
    expect(terminalText('\u001B[31mred\u001B[0m and \u001B[2J\u001B[1;1Hplain')).toBe('red and plain');
  });

  it('removes OSC sequences (window titles, hyperlinks), ended by BEL or ST', () => {
    expect(terminalText('a\u001B]0;pwned\u0007b')).toBe('ab');
    expect(terminalText('a\u001B]8;;https://evil.example\u001B\\link\u001B]8;;\u001B\\b')).toBe('alinkb');
  });

  it('turns other controls into spaces and drops bidi formatting', () => {
    expect(terminalText('tab\there\nnew\rline\u0007bell')).toBe('tab here new line bell');
    expect(terminalText('\u202Etxt.exe\u202C \u2067x\u2069')).toBe('txt.exe x');
    expect(terminalText('C1\u009Bcontrol')).toBe('C1 control');
  });

  it('leaves ordinary text alone', () => {
    expect(terminalText('Gaussian noise — café 日本')).toBe('Gaussian noise — café 日本');
  });
});
