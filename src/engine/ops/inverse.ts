// torch.linalg.inv for small square matrices: x [..., n, n] → x⁻¹, each matrix inverted in float64 by Gauss-Jordan
// elimination with partial pivoting (O(n³) in plain JS: meant for block-sized matrices, not weights). The gradient of
// Y = X⁻¹ is -Yᵀ · G · Yᵀ.
import { record } from '../autograd.js';
import { EngineError, ShapeError } from '../errors.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat, checkMinRank } from './check.js';
import { matmul } from './matmul.js';

/** Inverts the n×n matrix at `offset` of `src` into `dst`; false when it is singular. */
function invertInto(src: Float32Array, dst: Float32Array, offset: number, n: number): boolean {
  const a = Float64Array.from(src.subarray(offset, offset + n * n));
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]!) > Math.abs(a[pivot * n + col]!)) pivot = r;
    const p = a[pivot * n + col]!;
    if (p === 0 || !Number.isFinite(p)) return false;
    if (pivot !== col) {
      for (let j = 0; j < n; j++) {
        [a[col * n + j], a[pivot * n + j]] = [a[pivot * n + j]!, a[col * n + j]!];
        [inv[col * n + j], inv[pivot * n + j]] = [inv[pivot * n + j]!, inv[col * n + j]!];
      }
    }
    for (let j = 0; j < n; j++) {
      a[col * n + j] = a[col * n + j]! / p;
      inv[col * n + j] = inv[col * n + j]! / p;
    }
    for (let r = 0; r < n; r++) {
      const f = a[r * n + col]!;
      if (r === col || f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r * n + j] = a[r * n + j]! - f * a[col * n + j]!;
        inv[r * n + j] = inv[r * n + j]! - f * inv[col * n + j]!;
      }
    }
  }
  dst.set(inv, offset);
  return true;
}

export function inverse(x: Tensor): Tensor {
  checkFloat('inverse', 'x', x);
  checkMinRank('inverse', 'x', x, 2);
  const n = x.shape[x.ndim - 1]!;
  if (x.shape[x.ndim - 2] !== n) throw new ShapeError('inverse', 'x', `must hold square matrices, got ${formatShape(x.shape)}`);
  const src = x.toArray() as Float32Array;
  const out = Tensor.empty(x.shape);
  const dst = out.data() as Float32Array;
  for (let offset = 0; offset < src.length; offset += n * n) {
    if (!invertInto(src, dst, offset, n)) {
      out.dispose();
      throw new EngineError('inverse', 'x', `${formatShape(x.shape)} holds a singular or non-finite matrix (number ${offset / (n * n)})`);
    }
  }
  return record('inverse', out, [x], (g, _needs, [y]) => {
    const left = matmul(y!, g, { transA: true });
    const grad = matmul(left, y!, { transB: true, alpha: -1 });
    left.dispose();
    return [grad];
  }, [out]);
}
