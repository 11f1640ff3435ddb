// Types for the part of demoIndex.js that TypeScript tests read.
/** The lexical scheme the demo index must have to count as up to date (the indexer's LEXICAL_SCHEME). */
export const LEXICAL_SCHEME_WRITTEN: string;
export function staleReason(modelDir?: string): string | null;
export function ensureDemoIndex(opts?: { log?: (s: string) => void }): Promise<unknown>;
