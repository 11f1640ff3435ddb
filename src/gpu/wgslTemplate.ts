// Fills {{NAME}} placeholders of a WGSL source; every placeholder must be given and used,
// so a typo in a shader or a program fails at pipeline build time, not as a silent default.
export function fillWgsl(source: string, values: Record<string, string | number | boolean>, name: string): string {
  const used = new Set<string>();
  const out = source.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`${name}: no value for {{${key}}}`);
    used.add(key);
    return String(values[key]);
  });
  for (const key of Object.keys(values)) if (!used.has(key)) throw new Error(`${name}: {{${key}}} does not occur`);
  return out;
}

/** A WGSL f32 literal that round-trips exactly. */
export function wgslF32(v: number): string {
  const s = Math.fround(v).toString();
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
