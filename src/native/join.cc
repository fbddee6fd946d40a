// Block copy between row-strided buffers: the kernel behind concat (each input's rows land at a
// column offset of the output rows). Byte-based, so it serves every dtype.
#include <cstring>
#include "napi_util.h"
#include "parallel.h"

// copyBlocks(src, srcOffsetBytes, srcStrideBytes, dst, dstOffsetBytes, dstStrideBytes, rows, rowBytes)
PEFTJS_FN(copyBlocks) {
  peftjs::Args a(env, info);
  const char* src = a.buf<char>(0) + a.i64(1);
  const int64_t src_stride = a.i64(2);
  char* dst = a.buf<char>(3) + a.i64(4);
  const int64_t dst_stride = a.i64(5), rows = a.i64(6), row_bytes = a.i64(7);
  if (row_bytes == 0) return peftjs::undefined(env);
  peftjs::parallel_for(rows, row_bytes / 4, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) std::memcpy(dst + r * dst_stride, src + r * src_stride, static_cast<size_t>(row_bytes));
  });
  return peftjs::undefined(env);
}
