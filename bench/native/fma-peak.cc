// Peak fp32 multiply-add rate of this CPU: each thread runs independent chains of vector FMAs held
// in registers (no memory traffic), so the figure is what the FMA units do at the clock they reach
// under that load. Usage: fma-peak <threads> <rounds> <seconds per round>; prints the best round's
// GFLOP/s summed over the threads.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float vec __attribute__((vector_size(kLanes * 4)));

// Twelve named accumulators, enough to cover FMA latency on two ports, kept out of an array so
// that they stay in registers.
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
constexpr int kChains = 12;

static double run_chains(double seconds, float* sink) {
  const vec mul = vec{} + 0.9999999f, add = vec{} + 1e-7f;
#define DECLARE(i) vec acc##i = vec{} + (1.0f + i * 1e-7f);
  CHAINS(DECLARE)
  long iterations = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int r = 0; r < 100000; r++) {
#define STEP(i) acc##i = acc##i * mul + add;
      CHAINS(STEP)
      // Opaque to the optimiser, so the chains are neither folded nor merged across iterations.
#define HIDE(i) asm("" : "+v"(acc##i));
      CHAINS(HIDE)
    }
    iterations += 100000;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  vec total = vec{};
#define SUM(i) total += acc##i;
  CHAINS(SUM)
  *sink = total[0];  // keeps the chains live
  return iterations * kChains * kLanes * 2.0 / elapsed / 1e9;
}

static double one_round(int threads, double seconds) {
  std::vector<double> rates(threads);
  std::vector<float> sinks(threads);
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; t++) workers.emplace_back([&, t] { rates[t] = run_chains(seconds, &sinks[t]); });
  rates[0] = run_chains(seconds, &sinks[0]);
  for (auto& w : workers) w.join();
  double sum = 0;
  for (double r : rates) sum += r;
  return sum;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const double seconds = argc > 3 ? std::atof(argv[3]) : 0.3;
  if (threads < 1 || rounds < 1 || !(seconds > 0)) {
    std::fprintf(stderr, "usage: fma-peak <threads >= 1> <rounds >= 1> <seconds per round > 0>\n");
    return 2;
  }
  double best = 0;
  for (int r = 0; r < rounds; r++) {
    const double rate = one_round(threads, seconds);
    if (rate > best) best = rate;
  }
  std::printf("%.1f\n", best);
  return 0;
}
