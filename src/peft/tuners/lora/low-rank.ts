// The LoRA product B·A applied two ways: to a layer output, y += scale · (h·Bᵀ + bias), accumulated by the GEMM
// straight into the base output's memory; and into a weight matrix in its stored layout (merge, DoRA norms, deltas).
import { record } from '../../../engine/autograd.js';
import { DTYPE_BYTES } from '../../../engine/dtype.js';
import { ShapeError } from '../../../engine/errors.js';
import { full } from '../../../engine/ops/creation.js';
import { checkFloat } from '../../../engine/ops/check.js';
import { formatShape } from '../../../engine/shape.js';
import { Tensor } from '../../../engine/tensor.js';
import { native } from '../../../native/binding.js';

/** `count` rows of h from row `src` go into the rows of y from row `dst` (rows: positions of the flattened leading dims). */
export interface RowRun {
  src: number;
  dst: number;
  count: number;
}

export interface LowRankOptions {
  /** lora_B's bias, added (times scale) to every updated row. */
  bias?: Tensor | null;
  /** Which rows of y receive which rows of h (mixed batches); every row, in order, when left out. */
  runs?: readonly RowRun[];
}

function ones(n: number): Tensor {
  return full([Math.max(n, 1)], 1);
}

/**
 * y + scale · (h·Bᵀ + bias) on the selected rows of y, computed into y's own memory and returned as a new handle on
 * it. `y` must be a fresh layer output that no recorded op keeps (a Linear / Conv1D / Embedding result or an
 * earlier addLowRank): it is updated in place so the LoRA term needs no second buffer of the output's size.
 * h: [..., r] (the rows of `runs`), B: [out, r]. Gradients: y gets g, h gets scale·g·B, B gets scale·gᵀ·h, bias
 * gets scale·Σ g.
 */
export function addLowRank(y: Tensor, h: Tensor, B: Tensor, scale: number, options: LowRankOptions = {}): Tensor {
  checkFloat('addLowRank', 'y', y);
  checkFloat('addLowRank', 'h', h);
  checkFloat('addLowRank', 'B', B);
  if (B.ndim !== 2) throw new ShapeError('addLowRank', 'B', `must be 2-D [out, r], got ${formatShape(B.shape)}`);
  const [n, r] = B.shape as [number, number];
  if (y.shape[y.ndim - 1] !== n) throw new ShapeError('addLowRank', 'y', `last dim must be ${n} (B ${formatShape(B.shape)}), got ${formatShape(y.shape)}`);
  if (h.shape[h.ndim - 1] !== r) throw new ShapeError('addLowRank', 'h', `last dim must be ${r} (B ${formatShape(B.shape)}), got ${formatShape(h.shape)}`);
  const bias = options.bias ?? null;
  if (bias !== null) {
    checkFloat('addLowRank', 'bias', bias);
    if (bias.ndim !== 1 || bias.shape[0] !== n) throw new ShapeError('addLowRank', 'bias', `must have shape [${n}], got ${formatShape(bias.shape)}`);
  }
  const yRows = y.size / n;
  const hRows = h.size / r;
  if (options.runs === undefined && hRows !== yRows) throw new ShapeError('addLowRank', 'h', `has ${hRows} rows but y has ${yRows}`);
  const runs = options.runs ?? [{ src: 0, dst: 0, count: yRows }];
  let covered = 0;
  let longest = 0;
  for (const run of runs) {
    if (run.src < 0 || run.dst < 0 || run.src + run.count > hRows || run.dst + run.count > yRows) {
      throw new ShapeError('addLowRank', 'runs', `run ${JSON.stringify(run)} is outside h (${hRows} rows) or y (${yRows} rows)`);
    }
    covered += run.count;
    longest = Math.max(longest, run.count);
  }
  if (covered !== hRows) throw new ShapeError('addLowRank', 'runs', `cover ${covered} rows but h has ${hRows}`);

  const out = y.view(y.shape);
  for (const run of runs) {
    native.matmul(h.buffer, run.src * r, B.buffer, 0, out.buffer, run.dst * n, 1, run.count, n, r, false, true, scale, 1, 0, 0, 0);
  }
  if (bias !== null) {
    const one = ones(longest);
    for (const run of runs) native.matmul(one.buffer, 0, bias.buffer, 0, out.buffer, run.dst * n, 1, run.count, n, 1, false, false, scale, 1, 0, 0, 0);
    one.dispose();
  }

  const inputs = bias === null ? [y, h, B] : [y, h, B, bias];
  return record(
    'addLowRank',
    out,
    inputs,
    (g, needs, [sh, sB]) => {
      const gy = needs[0] ? g.view(g.shape) : null;
      let gh: Tensor | null = null;
      if (needs[1]) {
        gh = Tensor.empty(h.shape);
        for (const run of runs) {
          native.matmul(g.buffer, run.dst * n, sB!.buffer, 0, gh.buffer, run.src * r, 1, run.count, r, n, false, false, scale, 0, 0, 0, 0);
        }
      }
      let gB: Tensor | null = null;
      if (needs[2]) {
        gB = Tensor.empty(B.shape, 'float32', true);
        for (const run of runs) {
          native.matmul(g.buffer, run.dst * n, sh!.buffer, run.src * r, gB.buffer, 0, 1, n, r, run.count, true, false, scale, 1, 0, 0, 0);
        }
      }
      let gBias: Tensor | null = null;
      if (needs[3]) {
        gBias = Tensor.empty([n], 'float32', true);
        const one = ones(longest);
        for (const run of runs) native.matmul(one.buffer, 0, g.buffer, run.dst * n, gBias.buffer, 0, 1, 1, n, run.count, false, false, scale, 1, 0, 0, 0);
        one.dispose();
      }
      return [gy, gh, gB, gBias];
    },
    [h, B],
  );
}

/**
 * W += alpha · (B·A) in W's layout: [out, in] as nn.Linear stores it, or [in, out] (`inOut`: Conv1D, embeddings,
 * fan_in_fan_out), with A [r, in] and B [out, r]. No graph is recorded; W is changed in place.
 */
export function addProductInto(W: Tensor, A: Tensor, B: Tensor, alpha: number, inOut: boolean): void {
  checkFloat('addProductInto', 'W', W);
  const [r, inF] = A.shape as [number, number];
  const outF = B.shape[0]!;
  const expected = inOut ? [inF, outF] : [outF, inF];
  if (W.ndim !== 2 || W.shape[0] !== expected[0] || W.shape[1] !== expected[1] || B.shape[1] !== r) {
    throw new ShapeError('addProductInto', 'W', `${formatShape(W.shape)} does not fit A ${formatShape(A.shape)} and B ${formatShape(B.shape)}`);
  }
  if (inOut) native.matmul(A.buffer, 0, B.buffer, 0, W.buffer, 0, 1, inF, outF, r, true, true, alpha, 1, 0, 0, 0);
  else native.matmul(B.buffer, 0, A.buffer, 0, W.buffer, 0, 1, outF, inF, r, false, false, alpha, 1, 0, 0, 0);
}

/** A copy of t with its own memory (no graph). */
export function cloneTensor(t: Tensor): Tensor {
  const out = Tensor.empty(t.shape, t.dtype);
  native.copyBytes(t.buffer, 0, out.buffer, 0, t.size * DTYPE_BYTES[t.dtype]);
  return out;
}

/** Multiplies output feature o of W by f[o] in place: rows of [out, in], columns of [in, out] (`inOut`). */
export function scaleOutputFeatures(W: Tensor, f: ArrayLike<number>, inOut: boolean, invert = false): void {
  const w = W.data();
  const [rows, cols] = W.shape as [number, number];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const s = f[inOut ? j : i]!;
      w[i * cols + j] = invert ? w[i * cols + j]! / s : w[i * cols + j]! * s;
    }
  }
}
