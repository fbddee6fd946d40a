// dtype conversion. float32 <-> bfloat16/float16 for storage, float32 <-> int32 for indices.
// Only float32 tensors carry gradients, so a conversion is never part of the graph.
import { native } from '../../native/binding.js';
import { checkDType, type DType, isHalf } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { checkTensor } from './check.js';
import { reshape } from './view.js';

export function toDtype(x: Tensor, dtype: DType): Tensor {
  checkTensor('toDtype', 'x', x);
  checkDType('toDtype', dtype);
  if (x.dtype === dtype) return reshape(x, x.shape);
  const out = Tensor.empty(x.shape, dtype);
  const bf16 = x.dtype === 'bfloat16' || dtype === 'bfloat16';
  if (x.dtype === 'float32' && isHalf(dtype)) native.castF32ToHalf(x.buffer, out.buffer, x.size, bf16);
  else if (isHalf(x.dtype) && dtype === 'float32') native.castHalfToF32(x.buffer, out.buffer, x.size, bf16);
  else if (x.dtype === 'float32' && dtype === 'int32') native.castF32ToI32(x.buffer, out.buffer, x.size);
  else if (x.dtype === 'int32' && dtype === 'float32') native.castI32ToF32(x.buffer, out.buffer, x.size);
  else {
    out.dispose();
    const f32 = toDtype(x, 'float32');
    const converted = toDtype(f32, dtype);
    f32.dispose();
    return converted;
  }
  return out;
}
