// Stateless hash-based generator shared by the random fills and dropout.
#pragma once
#include <cstdint>

namespace peftjs {

inline uint64_t join_seed(int64_t hi, int64_t lo) {
  return (static_cast<uint64_t>(hi) << 32) ^ static_cast<uint64_t>(static_cast<uint32_t>(lo));
}

// splitmix64 finaliser applied to seed-mixed counters: a well-tested 64-bit mixing function.
inline uint64_t mix(uint64_t seed, uint64_t counter) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + counter * 0xD1B54A32D192ED03ULL + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 24 random bits (exactly representable in f32).
inline float uniform01(uint64_t seed, uint64_t counter) {
  return static_cast<float>(mix(seed, counter) >> 40) * (1.0f / 16777216.0f);
}

inline double uniform01_f64(uint64_t seed, uint64_t counter) {
  return static_cast<double>(mix(seed, counter) >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace peftjs
