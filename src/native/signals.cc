#include "signals.h"
#include <initializer_list>
#include <omp.h>
#include <pthread.h>

namespace {

sigset_t deferrable_signals() {
  sigset_t set;
  sigfillset(&set);
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP}) sigdelset(&set, fault);
  return set;
}

const sigset_t& deferrable() {
  static const sigset_t set = deferrable_signals();
  return set;
}

}  // namespace

peftjs::SignalsHeld::SignalsHeld() { pthread_sigmask(SIG_BLOCK, &deferrable(), &saved_); }

peftjs::SignalsHeld::~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

void peftjs::hold_signals_on_pool_threads() {
#pragma omp parallel
  if (omp_get_thread_num() != 0) pthread_sigmask(SIG_BLOCK, &deferrable(), nullptr);
}
