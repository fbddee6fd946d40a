// One threading runtime for everything: OpenMP, which the Debian oneDNN build also uses, so GEMM
// and our own kernels share one pool and never oversubscribe the cores.
#include <omp.h>
#include "napi_util.h"
#include "signals.h"

PEFTJS_FN(setNumThreads) {
  peftjs::Args a(env, info);
  int n = static_cast<int>(a.i64(0));
  if (n > 0) {
    omp_set_num_threads(n);
    peftjs::hold_signals_on_pool_threads();
  }
  return peftjs::undefined(env);
}

PEFTJS_FN(getNumThreads) {
  return peftjs::number(env, omp_get_max_threads());
}
