// Element types. Compute is f32; bf16/f16 are storage formats for frozen weights; int32 holds indices.
export type DType = 'float32' | 'float16' | 'bfloat16' | 'int32';

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int32: 4,
};

export function isHalf(dtype: DType): boolean {
  return dtype === 'float16' || dtype === 'bfloat16';
}
