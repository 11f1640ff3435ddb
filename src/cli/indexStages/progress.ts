// Progress of the encode stage: a cli-progress bar on a terminal; without one (CI logs, pipes) a
// plain line per finished tile and every 10 s within a tile; nothing with --quiet.
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class EncodeProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private lastLine = performance.now();
  /** Passages encoded so far. */
  encoded = 0;

  /** `startedAt`: performance.now() when encoding began (the rate and ETA count from it). */
  constructor(
    private readonly log: (line: string) => void,
    private readonly total: number,
    private readonly startedAt: number,
    quiet: boolean,
  ) {
    this.bar =
      !quiet && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: 'encoding |{bar}| {percentage}% | {value}/{total} passages | {rate} passages/s | ETA {eta_formatted}',
              etaBuffer: 200,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    this.bar?.start(total, 0, { rate: '0.0' });
  }

  private rate(): number {
    return this.encoded / ((performance.now() - this.startedAt) / 1000);
  }

  private eta(): string {
    return fmtSeconds((this.total - this.encoded) / this.rate());
  }

  /** k more passages encoded (called per batch). */
  advance(k: number): void {
    this.encoded += k;
    this.bar?.update(this.encoded, { rate: this.rate().toFixed(1) });
    if (!this.bar && performance.now() - this.lastLine > 10_000) {
      this.lastLine = performance.now();
      this.log(`encoding: ${this.encoded}/${this.total} passages, ${this.rate().toFixed(1)} passages/s, ETA ${this.eta()}`);
    }
  }

  /** Tile t (from 0) of `tiles` is encoded and kept. */
  tileFinished(t: number, tiles: number): void {
    if (!this.bar) this.log(`tile ${t + 1}/${tiles} finished: ${this.encoded}/${this.total} passages, ${this.rate().toFixed(1)} passages/s, ETA ${this.eta()}`);
  }

  stop(): void {
    this.bar?.stop();
  }
}
