// oneDNN's JIT sgemm kernels (the Debian build, and upstream before v3.11.2) point the stack
// pointer into a heap workspace while they run. A signal delivered to that thread then (SIGPROF
// from a sampling profiler such as `node --cpu-prof`, SIGCHLD, SIGINT, ...) has its frame written
// over the heap, which shows up later as a malloc abort or as silently changed data. Signals are
// therefore held back on every thread while it runs oneDNN code: OpenMP's pool threads never take
// them, and the calling thread takes them once the product is done. Process-wide signals go to
// Node's other threads meanwhile; the faults a thread raises itself (SIGSEGV, SIGBUS, SIGFPE,
// SIGILL, SIGTRAP) are never held. A kernel that runs many small products (attention tiles, 16-bit
// weight blocks, batched products) holds them once for its whole run and calls dnnl_sgemm itself.
#pragma once
#include <csignal>

namespace peftjs {

// Holds signals back on the calling thread for its lifetime.
class SignalsHeld {
 public:
  SignalsHeld();
  ~SignalsHeld();
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t saved_;
};

// Holds signals back for good on the OpenMP pool threads of the calling thread's team (not on the
// caller). Run when the addon loads and whenever the thread count changes, so that every pool
// thread oneDNN can run on has them held.
void hold_signals_on_pool_threads();

}  // namespace peftjs
