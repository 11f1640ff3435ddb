// The per-layer tiling the layer kernel runs with (src/gpu/layerTiling.ts): which layers run as
// whole rows, how wide their block is, and which tilings are refused before any pipeline is built.
// The kernels themselves are checked against the CPU reference in e2e/scorer.spec.ts.
import { describe, expect, it } from 'vitest';
import { hiddenOutDims } from '../src/core/qnet';
import { DEFAULT_TILING, DIRECT_TILING, QUAD_DIRECT_TILING, checkTiling, layerTiling, workgroupShape, type LayerTiling } from '../src/gpu/layerTiling';
import { layerWgsl } from '../src/gpu/layerWgsl';

// A device as checkTiling sees it: WebGPU's default limits, no subgroups.
const device = {
  limits: { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384 },
  features: new Set<string>(),
} as unknown as GPUDevice;

describe('layerTiling', () => {
  it('runs layers of ≤ 256 outputs as one block as wide as the row, rounded up to whole quads of 8-column threads', () => {
    for (const [out, bn] of [
      [100, 128],
      [256, 256],
      [47, 64],
      [1, 32],
      [160, 160],
    ] as const) {
      const t = layerTiling(QUAD_DIRECT_TILING, out);
      expect(t.rowInRegisters).toBe(true);
      expect(t.BN).toBe(bn);
      expect(t.BN).toBeGreaterThanOrEqual(out);
      const { wx, wy } = workgroupShape(t);
      expect(wx % 4).toBe(0); // whole quads of threads across a row
      expect(wx * wy).toBeLessThanOrEqual(256);
    }
  });

  it('keeps column blocks for wider layers and for tilings without wholeRow', () => {
    expect(layerTiling(QUAD_DIRECT_TILING, 257)).toEqual(QUAD_DIRECT_TILING);
    expect(layerTiling(QUAD_DIRECT_TILING, 768).rowInRegisters).toBeUndefined();
    const plain: LayerTiling = { BM: 64, BN: 64, BK: 16, TM: 8, TNV: 2, direct: true };
    expect(layerTiling(plain, 100)).toEqual(plain);
  });

  it('fills the whole-row epilogue only for whole-row layers, with the residual only where the layer has one', () => {
    const shape = { inDim: 100, outDim: 100, strideWords: 50, format: 'f16' as const, residual: true, last: false, eps: 1e-5 };
    const whole = layerWgsl(shape, layerTiling(QUAD_DIRECT_TILING, 100));
    expect(whole).toContain('const WHOLE_ROW: bool = true;');
    expect(whole).toContain('quadSwapX');
    expect(whole).toMatch(/store_y4\(er0, ec0, select\(vec4<f32>\(0\.0\), acc0_0 \* rs0 \+ load_x4_at\(eb0, ec0\), cm0\)\)/);
    const last = layerWgsl({ ...shape, residual: false, last: true }, layerTiling(QUAD_DIRECT_TILING, 100));
    expect(last).not.toContain('load_x4_at(eb0');
    expect(last).toContain('scores[params.score_offset + er0] = dots[0]');
    const blocks = layerWgsl({ ...shape, inDim: 768, outDim: 768, strideWords: 384 }, layerTiling(QUAD_DIRECT_TILING, 768));
    expect(blocks).toContain('const WHOLE_ROW: bool = false;');
    expect(blocks).not.toContain('quadSwapX');
  });

  it("never lets a caller's rowInRegisters reach a layer wider than its block", () => {
    const forced: LayerTiling = { ...QUAD_DIRECT_TILING, rowInRegisters: true };
    expect(layerTiling(forced, 768).rowInRegisters).toBeUndefined();
    expect(layerTiling(forced, 768).BN).toBe(64);
  });

  it('leaves the real-GPU and plain direct kernels with f32 activations and no whole-row code', () => {
    const shape = { inDim: 256, outDim: 256, strideWords: 128, format: 'f16' as const, residual: true, last: false, eps: 1e-5 };
    for (const t of [DEFAULT_TILING, DIRECT_TILING]) {
      const src = layerWgsl(shape, layerTiling(t, 256));
      expect(src).toContain('var<storage, read_write> y_out: array<f32>;');
      expect(src).toContain('const WHOLE_ROW: bool = false;');
      expect(src).not.toContain('quadSwapX');
    }
    expect(layerWgsl(shape, layerTiling(QUAD_DIRECT_TILING, 256))).toContain('y_out: array<vec4<f32>>;');
  });

  it("lists the hidden layers' widths", () => {
    expect(hiddenOutDims([768, 768, 768, 1])).toEqual([768, 768]);
    expect(hiddenOutDims([96, 320, 48, 1])).toEqual([320, 48]);
  });
});

describe('checkTiling', () => {
  it('refuses a whole-row tiling without quadA, and quadA where the device has no subgroups', async () => {
    const noQuad: LayerTiling = { BM: 12, BN: 64, BK: 16, TM: 12, TNV: 2, direct: true, wholeRow: [{ maxOut: 256, TNV: 2 }] };
    await expect(checkTiling(noQuad, device, [100, 100, 100, 1])).rejects.toThrow(/wholeRow needs quadA/);
    await expect(checkTiling(QUAD_DIRECT_TILING, device, [100, 100, 100, 1])).rejects.toThrow(/quadA needs the 'subgroups' feature/);
  });

  it("refuses a whole row wider than the device's threads per workgroup", async () => {
    const wide: LayerTiling = { ...QUAD_DIRECT_TILING, BM: 24, wholeRow: [{ maxOut: 256, TNV: 2 }] }; // 32 × 2 threads: fits
    const tooWide: LayerTiling = { ...QUAD_DIRECT_TILING, BM: 120, wholeRow: [{ maxOut: 256, TNV: 2 }] }; // 32 × 10
    await expect(checkTiling(tooWide, device, [256, 256, 1])).rejects.toThrow(/320 threads exceed the device's 256/);
    // Without subgroups even the fitting one stops at the quad check, after the size checks passed.
    await expect(checkTiling(wide, device, [256, 256, 1])).rejects.toThrow(/quadA needs the 'subgroups' feature/);
  });
});
