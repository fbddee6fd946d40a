import { expand, linear, matmul, permute, reshape, slice, sumToShape, transpose } from '../../src/engine/index.js';
import { goldenTests } from '../helpers/golden.js';

type A = Record<string, unknown>;

goldenTests('core', {
  matmul: ([a, b], o: A) => matmul(a!, b!, o),
  linear: ([x, w, b], o: A) => linear(x!, w!, b ?? null, o),
  reshape: ([x], o: A) => reshape(x!, o.shape as number[]),
  permute: ([x], o: A) => permute(x!, o.dims as number[]),
  transpose: ([x], o: A) => transpose(x!, o.dim0 as number, o.dim1 as number),
  slice: ([x], o: A) => slice(x!, o.axis as number, (o.start as number) ?? 0, o.end as number | undefined, (o.step as number) ?? 1),
  expand: ([x], o: A) => expand(x!, o.shape as number[]),
  sumToShape: ([x], o: A) => sumToShape(x!, o.shape as number[]),
});
