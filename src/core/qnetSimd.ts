// The CPU scorer's inner loops as WebAssembly SIMD functions, the module's bytes written here
// (1.2 kB, compiled synchronously; no toolchain, no fetch). JavaScript numbers are scalar doubles: qnetCpu.ts's JS
// kernel reaches ~3-4× the Float64 reference on the shipped q-net, near one multiply-add per cycle.
// f32x4 lanes do four per instruction; `v128.load32_splat` broadcasts one input without a shuffle.
// All offsets are in bytes, into the one memory the module imports (env.mem); f32 arithmetic.
//
//   gemm(x, xs, rows, w, k, np, b, y): for o < np (step 8), r < rows (step 4): columns outside, so an
//     8-column panel of W (k × 32 bytes) is reused by every row of the block from L1 even where all of
//     W is larger than L2 (768×768 floats: 2.4 MB);
//     Y[r][o..o+8) = b[o..o+8) + Σ_{i<k} X[r][i] · W[i][o..o+8)
//   X rows are xs bytes apart; W is k × np floats, Y rows np floats; rows % 4 = 0, np % 8 = 0, k ≥ 1.
//   A step keeps 4 rows × 8 outputs in eight v128 accumulators: 2 weight loads + 4 splats feed 32
//   multiply-adds (no fused multiply-add in wasm SIMD's base set).
//
//   norm(y, rows, n, np, eps, x, xs, residual): per row of Y (np floats, the first n real, the rest
//     zero as gemm leaves them with zero-padded weights): ReLU, LayerNorm without affine (biased
//     variance), + X's row when residual ≠ 0. The padded zeros add nothing to the sum; their (0 − mean)²
//     is taken back out of the squares. Afterwards the padding holds junk (a residual reads X past its
//     n real values): no later step reads it, since gemm reads k = n inputs and the final dot n values.
//
//   dot(x, xs, rows, w, k4, y): y[r] = Σ_{i<4·k4} X[r][i]·w[i] as f32, for the output layer (and a
//     zero-layer q-net): w zero-padded to 4·k4 values, so X's padding or the next row's first values
//     read past the k real ones are multiplied by 0.
// Every opcode below is from the WebAssembly core spec (binary format, SIMD proposal as merged).

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

// Locals: 8 parameters, then i32 scratch, then v128 accumulators and temporaries.
const [X, XS, ROWS, W, K, NP, B, Y] = [0, 1, 2, 3, 4, 5, 6, 7];
const [R, O, I, P0, P1, P2, P3, WP, NPB, YP] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
const ACC = 18; // 18..25: row q, half h → ACC + 2q + h
const [W0, W1, XV] = [26, 27, 28];
const I32_LOCALS = 10;
const V128_LOCALS = 11;

const op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32const: 0x41,
  i32eqz: 0x45,
  i32ltU: 0x49,
  i32add: 0x6a,
  i32sub: 0x6b,
  i32mul: 0x6c,
  i32shl: 0x74,
  if: 0x04,
  else: 0x05,
  f32const: 0x43,
  f32store: 0x38,
  f32sqrt: 0x91,
  f32add: 0x92,
  f32sub: 0x93,
  f32mul: 0x94,
  f32div: 0x95,
  f32convertI32U: 0xb3,
  void: 0x40,
  simd: 0xfd,
};
const SIMD_LOAD = 0x00;
const SIMD_LOAD32_SPLAT = 0x09;
const SIMD_STORE = 0x0b;
const F32X4_SPLAT = 0x13;
const F32X4_EXTRACT_LANE = 0x1f;
const F32X4_ADD = 0xe4;
const F32X4_SUB = 0xe5;
const F32X4_MUL = 0xe6;
const F32X4_MAX = 0xe9;

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

/** Signed LEB128, for i32.const of the small non-negative constants used here. */
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const get = (l: number) => [op.get, ...uleb(l)];
const set = (l: number) => [op.set, ...uleb(l)];
const i32 = (v: number) => [op.i32const, ...sleb(v)];
const simd = (code: number, ...imm: number[]) => [op.simd, ...uleb(code), ...imm];
/** memarg: alignment exponent, then a static offset. */
const load = (offset: number) => simd(SIMD_LOAD, 4, ...uleb(offset));
const splat = () => simd(SIMD_LOAD32_SPLAT, 2, 0);
const store = (offset: number) => simd(SIMD_STORE, 4, ...uleb(offset));
/** acc = acc + XV · w */
const madd = (acc: number, w: number) => [...get(acc), ...get(XV), ...get(w), ...simd(F32X4_MUL), ...simd(F32X4_ADD), ...set(acc)];

function gemmBody(): number[] {
  const rowLoads = [P0, P1, P2, P3].flatMap((p, q) => [...get(p), ...splat(), ...set(XV), ...madd(ACC + 2 * q, W0), ...madd(ACC + 2 * q + 1, W1)]);
  const bumpRows = [P0, P1, P2, P3].flatMap((p) => [...get(p), ...i32(4), op.i32add, ...set(p)]);
  const bias = (half: number) => [...get(B), ...get(O), op.i32add, ...load(16 * half)];
  const initAcc = [0, 1, 2, 3].flatMap((q) => [...bias(0), ...set(ACC + 2 * q), ...bias(1), ...set(ACC + 2 * q + 1)]);
  const storeRow = (q: number) => [...get(YP), ...get(ACC + 2 * q), ...store(0), ...get(YP), ...get(ACC + 2 * q + 1), ...store(16)];
  const storeAcc = [0, 1, 2, 3].flatMap((q) => [...storeRow(q), ...get(YP), ...get(NPB), op.i32add, ...set(YP)]);
  // Row pointers of the 4 rows starting at r: P0 = X + r·xs, then each the previous + xs.
  const rowStarts = [
    ...get(X),
    ...get(R),
    ...get(XS),
    op.i32mul,
    op.i32add,
    ...set(P0),
    ...[P1, P2, P3].flatMap((p) => [...get(p - 1), ...get(XS), op.i32add, ...set(p)]),
  ];
  // biome-ignore format: one line per statement of the loop nest
  return [
    ...get(NP), ...i32(2), op.i32shl, ...set(NPB),                             // npb = np·4 (a row of Y and of W, in bytes)
    ...i32(0), ...set(O),
    op.block, op.void, op.loop, op.void,                                       // for o < npb, step 32 bytes (8 outputs)
      ...get(O), ...get(NPB), op.i32ltU, op.i32eqz, op.brIf, 1,
      ...i32(0), ...set(R),
      op.block, op.void, op.loop, op.void,                                     //   for r < rows, step 4: W's 8 columns stay in L1
        ...get(R), ...get(ROWS), op.i32ltU, op.i32eqz, op.brIf, 1,
        ...initAcc,                                                            //     accumulators = b[o..o+8)
        ...rowStarts,
        ...get(W), ...get(O), op.i32add, ...set(WP),
        ...get(K), ...set(I),
        op.loop, op.void,                                                      //     for i < k (k ≥ 1)
          ...get(WP), ...load(0), ...set(W0),
          ...get(WP), ...load(16), ...set(W1),
          ...rowLoads,                                                         //       acc[q] += X[r+q][i] · W[i][o..o+8)
          ...bumpRows,
          ...get(WP), ...get(NPB), op.i32add, ...set(WP),
          ...get(I), ...i32(1), op.i32sub, op.tee, ...uleb(I), op.brIf, 0,
        op.end,
        ...get(Y), ...get(R), ...get(NPB), op.i32mul, op.i32add, ...get(O), op.i32add, ...set(YP),
        ...storeAcc,                                                           //     Y[r+q][o..o+8) = acc[q]
        ...get(R), ...i32(4), op.i32add, ...set(R),
        op.br, 0,
      op.end, op.end,
      ...get(O), ...i32(32), op.i32add, ...set(O),
      op.br, 0,
    op.end, op.end,
  ];
}

// norm's locals: 8 parameters (eps is f32), then i32, f32 and v128 scratch.
const [NY, NROWS, NN, NNP, NEPS, NX, NXS, NRES] = [0, 1, 2, 3, 4, 5, 6, 7];
const [NR, NO, NYP, NXP, NNPB] = [8, 9, 10, 11, 12];
const [NMEAN, NRSTD] = [13, 14];
const [NACC, NV, NMEANV, NRSTDV] = [15, 16, 17, 18];

const f32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return [op.f32const, ...b];
};
const f32x4 = (code: number) => simd(code);
/** The four lanes of v128 local `l` added, as one f32 on the stack. */
const laneSum = (l: number) => [0, 1, 2, 3].flatMap((lane) => [...get(l), ...simd(F32X4_EXTRACT_LANE, lane), ...(lane ? [op.f32add] : [])]);
/** for (o = 0; o < npb; o += 16) body, inside a block/loop pair. */
// biome-ignore format: one line per statement
const overRow = (body: number[]) => [
  ...i32(0), ...set(NO),
  op.block, op.void, op.loop, op.void,
  ...get(NO), ...get(NNPB), op.i32ltU, op.i32eqz, op.brIf, 1,
  ...body,
  ...get(NO), ...i32(16), op.i32add, ...set(NO),
  op.br, 0,
  op.end, op.end,
];
/** The address of this row's lanes o..o+4 (on the stack). */
const at = (base: number) => [...get(base), ...get(NO), op.i32add];

function normBody(): number[] {
  // biome-ignore format: one line per statement of the loop nest
  return [
    ...get(NNP), ...i32(2), op.i32shl, ...set(NNPB),
    ...i32(0), ...set(NR),
    op.block, op.void, op.loop, op.void,                                       // for r < rows
      ...get(NR), ...get(NROWS), op.i32ltU, op.i32eqz, op.brIf, 1,
      ...get(NY), ...get(NR), ...get(NNPB), op.i32mul, op.i32add, ...set(NYP),
      ...get(NX), ...get(NR), ...get(NXS), op.i32mul, op.i32add, ...set(NXP),
      ...f32(0), ...f32x4(F32X4_SPLAT), ...set(NACC),
      ...overRow([                                                             //   y = max(y, 0); acc += y
        ...at(NYP), ...at(NYP), ...load(0), ...f32(0), ...f32x4(F32X4_SPLAT), ...f32x4(F32X4_MAX), op.tee, ...uleb(NV), ...store(0),
        ...get(NACC), ...get(NV), ...f32x4(F32X4_ADD), ...set(NACC),
      ]),
      ...laneSum(NACC), ...get(NN), op.f32convertI32U, op.f32div, ...set(NMEAN), // mean = Σy / n
      ...get(NMEAN), ...f32x4(F32X4_SPLAT), ...set(NMEANV),
      ...f32(0), ...f32x4(F32X4_SPLAT), ...set(NACC),
      ...overRow([                                                             //   acc += (y − mean)²
        ...at(NYP), ...load(0), ...get(NMEANV), ...f32x4(F32X4_SUB), op.tee, ...uleb(NV),
        ...get(NV), ...f32x4(F32X4_MUL), ...get(NACC), ...f32x4(F32X4_ADD), ...set(NACC),
      ]),
      // rstd = 1 / sqrt((Σ(y − mean)² − (np − n)·mean²) / n + eps): the padded zeros' squares taken out
      ...f32(1),
      ...laneSum(NACC),
      ...get(NNP), ...get(NN), op.i32sub, op.f32convertI32U, ...get(NMEAN), ...get(NMEAN), op.f32mul, op.f32mul, op.f32sub,
      ...get(NN), op.f32convertI32U, op.f32div, ...get(NEPS), op.f32add, op.f32sqrt, op.f32div, ...set(NRSTD),
      ...get(NRSTD), ...f32x4(F32X4_SPLAT), ...set(NRSTDV),
      ...get(NRES), op.if, op.void,
        ...overRow([                                                           //   y = (y − mean)·rstd + x
          ...at(NYP), ...at(NYP), ...load(0), ...get(NMEANV), ...f32x4(F32X4_SUB), ...get(NRSTDV), ...f32x4(F32X4_MUL),
          ...at(NXP), ...load(0), ...f32x4(F32X4_ADD), ...store(0),
        ]),
      op.else,
        ...overRow([                                                           //   y = (y − mean)·rstd
          ...at(NYP), ...at(NYP), ...load(0), ...get(NMEANV), ...f32x4(F32X4_SUB), ...get(NRSTDV), ...f32x4(F32X4_MUL), ...store(0),
        ]),
      op.end,
      ...get(NR), ...i32(1), op.i32add, ...set(NR),
      op.br, 0,
    op.end, op.end,
  ];
}

// dot's locals: 6 parameters, then i32 and v128 scratch.
const [DX, DXS, DROWS, DW, DK4, DY] = [0, 1, 2, 3, 4, 5];
const [DR, DI, DP, DWP] = [6, 7, 8, 9];
const DACC = 10;

function dotBody(): number[] {
  // biome-ignore format: one line per statement of the loop nest
  return [
    ...i32(0), ...set(DR),
    op.block, op.void, op.loop, op.void,                                       // for r < rows
      ...get(DR), ...get(DROWS), op.i32ltU, op.i32eqz, op.brIf, 1,
      ...get(DX), ...get(DR), ...get(DXS), op.i32mul, op.i32add, ...set(DP),
      ...get(DW), ...set(DWP),
      ...f32(0), ...f32x4(F32X4_SPLAT), ...set(DACC),
      ...get(DK4), ...set(DI),
      op.loop, op.void,                                                        //   for i < k4 (k4 ≥ 1 groups of 4)
        ...get(DACC), ...get(DP), ...load(0), ...get(DWP), ...load(0), ...f32x4(F32X4_MUL), ...f32x4(F32X4_ADD), ...set(DACC),
        ...get(DP), ...i32(16), op.i32add, ...set(DP),
        ...get(DWP), ...i32(16), op.i32add, ...set(DWP),
        ...get(DI), ...i32(1), op.i32sub, op.tee, ...uleb(DI), op.brIf, 0,
      op.end,
      ...get(DY), ...get(DR), ...i32(2), op.i32shl, op.i32add, ...laneSum(DACC), op.f32store, 2, 0, // y[r] = Σ lanes
      ...get(DR), ...i32(1), op.i32add, ...set(DR),
      op.br, 0,
    op.end, op.end,
  ];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const funcType = (params: number[]) => [0x60, ...vec(params.map((p) => [p])), 0];
const body = (locals: [number, number][], code: number[]) => {
  const b = [...vec(locals.map(([count, type]) => [...uleb(count), type])), ...code, op.end];
  return [...uleb(b.length), ...b];
};

/** The module: imports memory env.mem, exports gemm, norm and dot (functions 0, 1, 2). */
export function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const gemmType = funcType(Array(8).fill(I32));
  const normType = funcType([I32, I32, I32, I32, F32, I32, I32, I32]);
  const dotType = funcType(Array(6).fill(I32));
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d], // magic
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(1, vec([gemmType, normType, dotType])),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]])), // memory, min 1 page, no max
    ...section(3, vec([[0], [1], [2]])),
    ...section(
      7,
      vec([
        [...name('gemm'), 0x00, 0],
        [...name('norm'), 0x00, 1],
        [...name('dot'), 0x00, 2],
      ]),
    ),
    ...section(
      10,
      vec([
        body(
          [
            [I32_LOCALS, I32],
            [V128_LOCALS, V128],
          ],
          gemmBody(),
        ),
        body(
          [
            [5, I32],
            [2, F32],
            [4, V128],
          ],
          normBody(),
        ),
        body(
          [
            [4, I32],
            [1, V128],
          ],
          dotBody(),
        ),
      ]),
    ),
  ]);
}

export interface SimdKernels {
  gemm: (x: number, xs: number, rows: number, w: number, k: number, np: number, b: number, y: number) => void;
  norm: (y: number, rows: number, n: number, np: number, eps: number, x: number, xs: number, residual: number) => void;
  dot: (x: number, xs: number, rows: number, w: number, k4: number, y: number) => void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is missing (Safari before 16.4, old engines). */
export function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = simdModuleBytes();
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

/** The kernels bound to `memory` (its buffer is the heap every offset points into). */
export function instantiateSimd(module: WebAssembly.Module, memory: WebAssembly.Memory): SimdKernels {
  const { exports } = new WebAssembly.Instance(module, { env: { mem: memory } });
  return { gemm: exports.gemm as SimdKernels['gemm'], norm: exports.norm as SimdKernels['norm'], dot: exports.dot as SimdKernels['dot'] };
}
