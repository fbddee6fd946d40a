// Rotary position embedding in HF Llama's rotate_half layout: y = x*cos + rotate_half(x)*sin with
// rotate_half(x) = cat(-x2, x1) over the halves of the last dim. One fused kernel each way; the
// cos/sin tables get gradients too when they require them. x may also come as [B, T, H, D] (a
// projection's output viewed per head): the kernel then moves the heads in the same pass.
import { native } from '../../native/binding.js';
import { record } from '../autograd.js';
import { ShapeError } from '../errors.js';
import { formatShape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkFloat } from './check.js';
import { permute } from './view.js';

type Buf = ArrayBuffer;

interface RotaryKernels {
  rotaryApply(
    x: Buf, cos: Buf, sin: Buf, out: Buf, B: number, H: number, T: number, D: number,
    batchedTable: boolean, transposed: boolean, xBTHD: boolean, outBTHD: boolean,
  ): void;
  rotaryTableGrad(x: Buf, g: Buf, gcos: Buf | null, gsin: Buf | null, B: number, H: number, T: number, D: number, batchedTable: boolean): void;
}

const kernels = native as unknown as RotaryKernels;

export interface RotaryApplyOptions {
  /** 'bthd': x is [B, T, H, D] and the result still [B, H, T, D] (default 'bhtd'). */
  inputLayout?: 'bhtd' | 'bthd';
}

/** x [B, H, T, D] rotated by cos/sin tables of shape [T, D] or [B, T, D] (shared by all heads). */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor, options: RotaryApplyOptions = {}): Tensor {
  checkFloat('applyRotary', 'x', x);
  checkFloat('applyRotary', 'cos', cos);
  checkFloat('applyRotary', 'sin', sin);
  const layout = options.inputLayout ?? 'bhtd';
  if (layout !== 'bhtd' && layout !== 'bthd') throw new ShapeError('applyRotary', 'inputLayout', `must be 'bhtd' or 'bthd', got '${String(layout)}'`);
  const bthd = layout === 'bthd';
  if (x.ndim !== 4) throw new ShapeError('applyRotary', 'x', `must be 4-D [batch, ${bthd ? 'seq, heads' : 'heads, seq'}, headDim], got ${formatShape(x.shape)}`);
  const [B, H, T, D] = (bthd ? [x.shape[0], x.shape[2], x.shape[1], x.shape[3]] : x.shape) as [number, number, number, number];
  if (D % 2 !== 0) throw new ShapeError('applyRotary', 'x', `must have an even head dim, got ${formatShape(x.shape)}`);
  const table = cos.shape;
  const fits = (table.length === 2 && sameShape(table, [T, D])) || (table.length === 3 && sameShape(table.slice(1), [T, D]) && (table[0] === B || table[0] === 1));
  if (!fits) throw new ShapeError('applyRotary', 'cos', `must be [${T}, ${D}] or [${B}, ${T}, ${D}] for x ${formatShape(x.shape)}, got ${formatShape(table)}`);
  if (!sameShape(sin.shape, table)) throw new ShapeError('applyRotary', 'sin', `must have the shape of cos ${formatShape(table)}, got ${formatShape(sin.shape)}`);
  const batched = table.length === 3 && table[0] !== 1;

  const out = Tensor.empty([B, H, T, D]);
  kernels.rotaryApply(x.buffer, cos.buffer, sin.buffer, out.buffer, B, H, T, D, batched, false, bthd, false);
  const tablesNeedGrad = cos.requiresGrad || sin.requiresGrad;
  return record(
    'applyRotary',
    out,
    [x, cos, sin],
    (g, [needX, needCos, needSin], [sc, ss, sx]) => {
      let gx: Tensor | null = null;
      if (needX) {
        gx = Tensor.empty(x.shape);
        kernels.rotaryApply(g.buffer, sc!.buffer, ss!.buffer, gx.buffer, B, H, T, D, batched, true, false, bthd);
      }
      const gcos = needCos ? Tensor.empty(table) : null;
      const gsin = needSin ? Tensor.empty(table) : null;
      if (needCos || needSin) {
        const xs = bthd ? permute(sx!, [0, 2, 1, 3]) : sx!;
        kernels.rotaryTableGrad(xs.buffer, g.buffer, gcos?.buffer ?? null, gsin?.buffer ?? null, B, H, T, D, batched);
      }
      return [gx, gcos, gsin];
    },
    tablesNeedGrad ? [cos, sin, x] : [cos, sin],
  );
}
