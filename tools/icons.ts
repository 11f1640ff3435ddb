// The web app's icons, drawn at build time (no binary files in the repository): a magnifier over
// three dots on the accent colour, encoded as PNG with node:zlib. `maskable` fills the whole square
// and keeps the drawing inside the central 80% safe zone.
import { crc32, deflateSync } from 'node:zlib';

const ACCENT = [0x3d, 0x4f, 0xd6];

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** RGBA pixels (row-major, size×size×4) to a PNG file. */
export function encodePng(size: number, rgba: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    raw.set(rgba.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** Coverage of background (0/1) and foreground (0/1) at a point of the unit square. */
function sample(x: number, y: number, maskable: boolean): [number, number] {
  // Rounded square background (the whole square when maskable).
  const r = 0.18;
  const qx = Math.max(Math.abs(x - 0.5) - (0.5 - r), 0);
  const qy = Math.max(Math.abs(y - 0.5) - (0.5 - r), 0);
  const bg = maskable || Math.hypot(qx, qy) <= r ? 1 : 0;
  // The drawing, scaled into the safe zone when maskable.
  const s = maskable ? 0.8 : 1;
  const u = (x - 0.5) / s + 0.5;
  const v = (y - 0.5) / s + 0.5;
  const cx = 0.44;
  const cy = 0.44;
  const ring = Math.abs(Math.hypot(u - cx, v - cy) - 0.2) <= 0.045;
  const handle = segmentDistance(u, v, 0.6, 0.6, 0.76, 0.76) <= 0.055;
  const dots = [
    [0.37, 0.49],
    [0.51, 0.49],
    [0.44, 0.37],
  ].some(([dx, dy]) => Math.hypot(u - dx, v - dy) <= 0.035);
  return [bg, ring || handle || dots ? 1 : 0];
}

export function drawIcon(size: number, maskable = false): Buffer {
  const px = new Uint8Array(size * size * 4);
  const n = 3; // 3×3 supersampling
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let bg = 0;
      let fg = 0;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const [b, f] = sample((x + (i + 0.5) / n) / size, (y + (j + 0.5) / n) / size, maskable);
          bg += b;
          fg += f * b;
        }
      }
      bg /= n * n;
      fg /= n * n;
      const o = (y * size + x) * 4;
      const a = bg;
      const mix = a > 0 ? fg / a : 0; // share of white within the covered area
      for (let c = 0; c < 3; c++) px[o + c] = Math.round(ACCENT[c] * (1 - mix) + 255 * mix);
      px[o + 3] = Math.round(a * 255);
    }
  }
  return encodePng(size, px);
}

/** The icon files, by path under the site root. */
export function pwaIconFiles(): Map<string, Buffer> {
  return new Map([
    ['icons/icon-192.png', drawIcon(192)],
    ['icons/icon-512.png', drawIcon(512)],
    ['icons/maskable-512.png', drawIcon(512, true)],
  ]);
}
