// Parallel-for helpers over OpenMP with a grain size, so tiny tensors stay on one thread.
#pragma once
#include <omp.h>
#include <algorithm>
#include <atomic>
#include <cstdint>

namespace peftjs {

// Runs fn(begin, end) over [0, n) split in contiguous chunks across the pool; stays serial when
// n * cost_per_item is below the threshold where waking threads costs more than it saves.
template <typename F>
inline void parallel_for(int64_t n, int64_t cost_per_item, F&& fn) {
  const int64_t work = n * std::max<int64_t>(cost_per_item, 1);
  const int threads = omp_get_max_threads();
  if (threads <= 1 || work < 32768 || n < 2 || omp_in_parallel()) {
    fn(int64_t(0), n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(threads, n);
#pragma omp parallel num_threads(static_cast<int>(chunks))
  {
    const int64_t t = omp_get_thread_num();
    const int64_t begin = n * t / chunks;
    const int64_t end = n * (t + 1) / chunks;
    if (begin < end) fn(begin, end);
  }
}

inline int64_t worker_count(int64_t tasks) { return std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), tasks)); }

// Runs task(worker, t) for every t in [0, tasks) on `workers` threads (see worker_count). Each
// worker takes the next task from a shared counter, so a core slowed by other work, or a costlier
// task, does not hold the rest back the way fixed chunks would.
template <typename Task>
void run_tasks(int64_t workers, int64_t tasks, int64_t cost_per_task, Task&& task) {
  std::atomic<int64_t> next{0};
  parallel_for(workers, cost_per_task * tasks / workers, [&](int64_t wb, int64_t we) {
    for (int64_t w = wb; w < we; w++)
      for (int64_t t = next.fetch_add(1); t < tasks; t = next.fetch_add(1)) task(w, t);
  });
}

}  // namespace peftjs
