// `eval --engine browser`: not wired yet (waits for the browser engine to load real models).
import { CliError } from './errors.ts';
import type { SearchMode } from '../core/ranking.ts';

export async function browserSearchAll(
  _indexDir: string,
  _modelDir: string | null,
  _queries: { id: string; text: string }[],
  _mode: SearchMode,
  _k: number,
): Promise<Map<string, { id: string; score: number }[]>> {
  throw new CliError('--engine browser is not available yet: the browser engine cannot load real models yet; use --engine node', 2);
}
