// Small corpora of words drawn from a list by a seeded linear congruential generator, for the
// lexical tests: the same documents on every run.
export function wordDrawer(words: readonly string[], seed: number): { rnd: () => number; draw: (k: number) => string } {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return { rnd, draw: (k) => Array.from({ length: k }, () => words[Math.floor(rnd() * words.length)]).join(' ') };
}
